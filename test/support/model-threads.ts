/**
 * Model threads for tests (test/unit/model-threads*.test.ts): a pool with test defaults, closed
 * after each test, and the feeds of the hostile models, which answer their input x.
 */
import { afterEach } from 'vitest';
import type { ModelSession, TensorValue } from '../../src/inference/model-runtime.js';
import { ModelThreads, type ModelThreadsOptions } from '../../src/runtime/model-threads.js';

export const MiB = 2 ** 20;
const opened: ModelThreads[] = [];
afterEach(() => opened.splice(0).forEach((t) => t.close()));

/** A pool of one thread (10 s runs, 256 MiB recycle, 1 GiB heap) unless told otherwise; closed after the test. */
export function threads(options: Partial<ModelThreadsOptions> = {}): ModelThreads {
  const t = new ModelThreads({ threads: 1, runMs: 10_000, loadMs: 20_000, recycleBytes: 256 * MiB, maxHeapBytes: 1024 * MiB, ...options });
  opened.push(t);
  return t;
}

export const feeds = (...xs: number[]): Record<string, TensorValue> => ({ x: { type: 'float32', data: Float32Array.from(xs), dims: [xs.length, 1] } });
/** The model's y for these xs. */
export const y = async (s: ModelSession, ...xs: number[]) => [...((await s.run(feeds(...xs), ['y'])).y!.data as Float32Array)];
