import * as ort from 'onnxruntime-web';
import { createApp, type Ports } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { ortModelRuntime } from '../../src/inference/ort-runtime.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { QueryLogEntry } from '../../src/observability/query-log.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

ort.env.wasm.numThreads = 1;
export const ortRuntime = ortModelRuntime(ort);

/** The app on a store, in-process (app.request), with the query log captured. */
export function testApp(store: ObjectStore, env: Record<string, string> = {}, ports: Partial<Ports> = {}) {
  const logged: QueryLogEntry[] = [];
  const built = createApp(
    { store, models: ortRuntime, log: silentLogger, queryLog: { write: (e) => void logged.push(...e), flush: async () => undefined, settle: async () => undefined, stats: () => [] }, ...ports },
    parseConfig(env),
  );
  return { ...built, logged };
}
