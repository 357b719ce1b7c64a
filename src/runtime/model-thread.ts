/**
 * A model thread's entry (src/runtime/model-threads.ts starts it): onnxruntime-web of its own,
 * its heap capped, behind the same adapter the serving thread would use (ort-runtime.ts), so a
 * failed run is typed and its session replaced here as in-process. Built to its own file next
 * to the node's and the Lambda's bundles.
 */
import * as ort from 'onnxruntime-web';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelError, type ModelSession, type TensorValue } from '../inference/model-runtime.js';
import { modelErrorToWire, type FromModelThread, type ModelThreadData, type ToModelThread } from '../inference/model-thread-protocol.js';
import { ortModelRuntime } from '../inference/ort-runtime.js';
import { capWasmHeap, watchWasmHeap } from '../inference/wasm-heap.js';
import { startOrt } from './ort-probe.js';
import { lowerThreadPriority } from './thread-priority.js';
import { threadData } from './threads.js';

const port = parentPort;
if (!port) throw new Error('model-thread runs as a worker thread of the node');
const data = threadData<ModelThreadData>(workerData);
if (data.lowPriority) lowerThreadPriority();
capWasmHeap(data.maxHeapBytes);
const heap = watchWasmHeap();
ort.env.wasm.numThreads = 1;
const runtime = ortModelRuntime(ort);
const sessions = new Map<number, ModelSession>();
let next = 0;

/** Output buffers move to the parent rather than being copied (each once: outputs may share one). */
function transfers(value: Record<string, TensorValue>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of Object.values(value)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
  return [...buffers];
}

async function handle(m: ToModelThread): Promise<void> {
  try {
    if (m.t === 'release') {
      sessions.get(m.session)?.release();
      sessions.delete(m.session);
      port!.postMessage({ t: 'done', id: m.id, heap: heap(), value: null } satisfies FromModelThread);
    } else if (m.t === 'load') {
      const s = await runtime.load(m.bytes);
      sessions.set(++next, s);
      port!.postMessage({ t: 'done', id: m.id, heap: heap(), value: { session: next, inputs: s.inputs, outputs: s.outputs } } satisfies FromModelThread);
    } else {
      const s = sessions.get(m.session);
      if (!s) throw new ModelError(`no session ${m.session} in this model thread`);
      const value = await s.run(m.feeds, m.fetches);
      port!.postMessage({ t: 'done', id: m.id, heap: heap(), value } satisfies FromModelThread, transfers(value));
    }
  } catch (e) {
    port!.postMessage({ t: 'done', id: m.id, heap: heap(), error: modelErrorToWire(e) } satisfies FromModelThread);
  }
}

port.on('message', (m: ToModelThread) => void handle(m));
// onnxruntime's WebAssembly is compiled and started before the thread says it is ready.
void startOrt(ort).finally(() => port.postMessage({ t: 'ready' } satisfies FromModelThread));
