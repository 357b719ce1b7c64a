import type { Config } from '../config.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { ortModelRuntime } from '../inference/ort-runtime.js';
import { capWasmHeap, watchWasmHeap } from '../inference/wasm-heap.js';
import { isolatedModelThread, ModelThreads } from './model-threads.js';
import { startOrt } from './ort-probe.js';

const MiB = 2 ** 20;

export interface NodeModels {
  readonly models: ModelRuntime;
  /** Settles once onnxruntime has started (never rejects: a runtime that cannot start says so on first use). */
  readonly started: Promise<void>;
  /** Ends the model threads. */
  close(): void;
}

/**
 * The model runtime of the Node-based entries (Node, Lambda; docs/isolation-models.md): models
 * served from APINODE_MODEL_THREADS threads (the first one started now, so onnxruntime compiles
 * while the node starts), or with 0 on the serving thread, its heap capped. Either way an
 * import's model checks run in a throwaway thread.
 */
export async function nodeModelRuntime(config: Config): Promise<NodeModels> {
  const importBudget = { maxMs: config.importModelMaxMs, maxMemoryBytes: config.importModelMaxMemoryMiB * MiB };
  const isolated: ModelRuntime['isolated'] = async (budget) => isolatedModelThread(budget);
  if (config.modelThreads > 0) {
    const threads = new ModelThreads({
      threads: config.modelThreads,
      runMs: config.modelRunMaxMs,
      loadMs: Math.max(config.modelRunMaxMs, config.importModelMaxMs),
      recycleBytes: config.modelRecycleMiB * MiB,
      maxHeapBytes: config.modelMaxMemoryMiB * MiB,
      importBudget,
      isolated,
    });
    return { models: threads, started: threads.warm(), close: () => threads.close() };
  }
  // Before onnxruntime creates its heap: the cap, and the watch that sees it.
  capWasmHeap(config.modelMaxMemoryMiB * MiB);
  const heapBytes = watchWasmHeap();
  const ort = await import('onnxruntime-web');
  // One WASM thread: requests overlap on the event loop, not inside onnxruntime.
  ort.env.wasm.numThreads = 1;
  // Compiled and started now, while the node loads and listens, not by the first predict.
  return { models: ortModelRuntime(ort, { heapBytes, importBudget, isolated }), started: startOrt(ort), close: () => undefined };
}
