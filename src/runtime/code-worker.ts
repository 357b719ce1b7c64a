/**
 * A code thread's entry (src/runtime/code-pool.ts starts it): one QuickJS engine, driven by the
 * main thread's messages. Built to its own file next to the node's and the Lambda's bundles.
 */
import { parentPort } from 'node:worker_threads';
import { LocalEngine } from '../code/local-engine.js';
import { serveEngine, type FromThread, type ToThread } from '../code/pool-protocol.js';
import { lowerThreadPriority } from './thread-priority.js';

const port = parentPort;
if (!port) throw new Error('code-worker runs as a worker thread of the node');
// User code yields the CPU to the thread that serves predictions (docs/isolation.md).
lowerThreadPriority();
const engine = new LocalEngine();
const post = (m: FromThread) => port.postMessage(m);
const handle = serveEngine(engine, post);
port.on('message', (m: ToThread) => handle(m));
// A QuickJS that cannot start fails the first call instead (CODE_SANDBOX_UNAVAILABLE).
void engine.start().catch(() => undefined).finally(() => post({ t: 'ready' }));
