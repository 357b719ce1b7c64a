import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-web';
import type { Config } from '../config.js';
import { ModelBudgetExceeded, type IsolatedModelRuntime } from '../inference/model-runtime.js';
import { ortModelRuntime, type OrtModule, type OrtOptions } from '../inference/ort-runtime.js';
import { ortOptions } from './ort-options.js';

/**
 * The worker: a bare onnxruntime-web of its own (CommonJS entry, resolved by the parent), its
 * sessions by number, its heap size sent with every answer. Plain JavaScript evaluated as is,
 * so the built node needs no second file.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// Nice 10 on Linux (as thread-priority.ts): an import's model checks yield the CPU to serving.
try { require('node:os').setPriority(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()), 10); } catch {}
let heap;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...args) {
  const r = await instantiate.apply(this, args);
  for (const m of Object.values(args[1] ?? {})) for (const v of Object.values(m ?? {})) if (v instanceof WebAssembly.Memory) heap = v;
  return r;
};
const ort = require(workerData.ort);
ort.env.wasm.numThreads = 1;
const sessions = new Map();
let next = 0;
parentPort.on('message', async (m) => {
  try {
    let value;
    if (m.op === 'load') {
      const s = await ort.InferenceSession.create(m.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      sessions.set(++next, s);
      value = { session: next, inputMetadata: s.inputMetadata, outputMetadata: s.outputMetadata };
    } else if (m.op === 'run') {
      const feeds = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, t.data, t.dims);
      const res = await sessions.get(m.session).run(feeds, m.fetches);
      value = {};
      for (const [k, t] of Object.entries(res)) value[k] = { type: t.type, data: t.data, dims: t.dims };
    } else {
      await sessions.get(m.session)?.release();
      sessions.delete(m.session);
    }
    parentPort.postMessage({ id: m.id, value, heap: heap?.buffer.byteLength ?? 0 });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message ? e.message : e), heap: heap?.buffer.byteLength ?? 0 });
  }
});
`;

/** RSS beyond the memory budget before the watch ends the worker: the serving thread's own churn. */
const WATCH_SLACK_BYTES = 256 * 2 ** 20;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One worker thread with its own onnxruntime, for one import's model checks: a hostile model's
 * allocations stay in the worker, and end with it (terminate returns its memory); a call that
 * runs past `maxMs` ends the worker from outside, however busy its thread is.
 */
async function isolatedOrt(o: typeof ort, budget: { readonly maxMs: number; readonly maxMemoryBytes: number }): Promise<IsolatedModelRuntime> {
  const maxMs = budget.maxMs;
  const worker = new Worker(WORKER, { eval: true, workerData: { ort: createRequire(import.meta.url).resolve('onnxruntime-web') } });
  worker.unref();
  const pending = new Map<number, Pending>();
  let ids = 0;
  let heap = 0;
  let ended: Error | null = null;
  const end = (why: Error) => {
    if (ended) return;
    ended = why;
    clearInterval(watch);
    void worker.terminate();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(why);
    }
    pending.clear();
  };
  // The process's memory, watched from this (idle) thread while the worker runs: an allocation far
  // past the budget ends the worker before it can take the machine's memory.
  const rss0 = process.memoryUsage.rss();
  const watch = setInterval(() => {
    const grown = process.memoryUsage.rss() - rss0;
    if (grown > budget.maxMemoryBytes + WATCH_SLACK_BYTES) end(new ModelBudgetExceeded(`it needed more than ${Math.round(budget.maxMemoryBytes / 2 ** 20)} MiB of memory, the import's budget (APINODE_IMPORT_MODEL_MAX_MEMORY_MIB)`));
  }, 20);
  watch.unref();
  worker.on('message', (m: { id: number; value?: unknown; error?: string; heap: number }) => {
    heap = Math.max(heap, m.heap);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  worker.on('error', (e) => end(e));
  worker.on('exit', () => end(new Error('the model worker exited')));
  const call = (msg: Record<string, unknown>): Promise<any> => // eslint-disable-line @typescript-eslint/no-explicit-any -- the worker's answers, shaped by WORKER
    ended
      ? Promise.reject(ended)
      : new Promise((resolve, reject) => {
          const id = ++ids;
          const timer = setTimeout(() => end(new ModelBudgetExceeded(`it ran longer than the import's budget of ${maxMs} ms (APINODE_IMPORT_MODEL_MAX_MS)`)), maxMs);
          pending.set(id, { resolve, reject, timer });
          worker.postMessage({ ...msg, id });
        });
  const module: OrtModule = {
    Tensor: o.Tensor,
    InferenceSession: {
      create: (async (bytes: Uint8Array) => {
        const s = await call({ op: 'load', bytes });
        return {
          inputMetadata: s.inputMetadata,
          outputMetadata: s.outputMetadata,
          run: (feeds: Record<string, ort.Tensor>, fetches: string[]) =>
            call({ op: 'run', session: s.session, fetches, feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: t.type, data: t.data, dims: t.dims }])) }),
          release: () => (ended ? Promise.resolve() : call({ op: 'release', session: s.session })),
        };
      }) as unknown as OrtModule['InferenceSession']['create'],
    },
  };
  return {
    ...ortModelRuntime(module),
    heapBytes: () => heap,
    expired: () => ended instanceof ModelBudgetExceeded ? ended.message : null,
    close: async () => end(new Error('the import is over')),
  };
}

/**
 * The Node entry's onnxruntime options: ortOptions, and import checks in a worker (the Lambda
 * bundle carries onnxruntime inside it, where a worker could not load it: Lambda checks in-process).
 */
export function nodeOrtOptions(o: typeof ort, config: Config): OrtOptions {
  return { ...ortOptions(config), isolated: (budget) => isolatedOrt(o, budget) };
}
