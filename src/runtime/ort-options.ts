import type { Config } from '../config.js';
import type { OrtOptions } from '../inference/ort-runtime.js';
import { watchWasmHeap } from '../inference/wasm-heap.js';

/**
 * What every Node-based entry (Node, Lambda) gives the onnxruntime adapter: its heap watched
 * (call before the first session is created) and the operator's import budget.
 */
export function ortOptions(config: Config): OrtOptions {
  return {
    heapBytes: watchWasmHeap(),
    importBudget: { maxMs: config.importModelMaxMs, maxMemoryBytes: config.importModelMaxMemoryMiB * 2 ** 20 },
  };
}
