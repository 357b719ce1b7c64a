import * as ort from 'onnxruntime-web/wasm';
// The package path, not the export: wrangler's module rules resolve files, not `exports` maps.
import ortWasm from 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';
// The code sandbox's QuickJS, precompiled the same way (docs/code-endpoints.md).
import quickjsWasm from '@jitl/quickjs-wasmfile-release-sync/dist/emscripten-module.wasm';
import type { DocsAssets } from '../api/docs-page.js';
import { createApp, type App } from '../app.js';
import { parseConfig } from '../config.js';
import { ApiError, describe } from '../errors.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { ortModelRuntime } from '../inference/ort-runtime.js';
import { capWasmHeap, watchWasmHeap } from '../inference/wasm-heap.js';
import { jsonLogger } from '../observability/logger.js';
import { batchedQueryLog, type QueryLogSink } from '../observability/query-log.js';
import { queryLogSinks } from '../observability/query-log-sinks.js';
import { connectionLookup, neonConnections } from '../sql/connections.js';
import { R2ObjectStore } from '../storage/r2-object-store.js';

// Workers cannot compile WebAssembly from bytes: ORT gets a placeholder binary, and its one
// WebAssembly.instantiate(bytes, imports) call is answered with the precompiled module.
const PLACEHOLDER = new Uint8Array([0x61, 0x70, 0x69, 0x6e, 0x6f, 0x64, 0x65]); // "apinode"
const instantiate = WebAssembly.instantiate.bind(WebAssembly);
const isPlaceholder = (s: unknown) => s instanceof Uint8Array && s.length === PLACEHOLDER.length && s.every((b, i) => b === PLACEHOLDER[i]);
WebAssembly.instantiate = ((source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) =>
  isPlaceholder(source)
    ? instantiate(ortWasm, imports).then((instance) => ({ instance, module: ortWasm }))
    : instantiate(source as BufferSource, imports)) as typeof WebAssembly.instantiate;
// Wraps the routing above: it sees the imports ORT passes, its shared heap among them.
const heapBytes = watchWasmHeap();
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmBinary = PLACEHOLDER;
// A start-up that never settles would hang every request: give up (503) after 10 s instead.
ort.env.wasm.initTimeout = 10_000;

/** An Identity model (101 bytes): a failure to load it is the runtime's, not a model's. */
const PROBE = Uint8Array.from(atob('CAgSEmFwaW5vZGUtZGVtby1idWlsZDpHChwKAXgSAXkaCklkZW50aXR5XzAiCElkZW50aXR5EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0='), (c) => c.charCodeAt(0));
const ortRuntime = ortModelRuntime(ort, { heapBytes });
const log = jsonLogger((line) => console.error(line));
let ready: Promise<ModelRuntime> | null = null;

const MiB = 2 ** 20;
/**
 * onnxruntime's heap cap on Workers when APINODE_MODEL_MAX_MEMORY_MIB is unset (its default,
 * 1,024, is Node's and Lambda's; 64 is also its floor). The isolate has 128 MB in all: measured in
 * workerd, the JS heap is 6 MiB idle and 8-9 MiB with every demo model loaded, the code sandbox's
 * QuickJS takes 32 MiB a call by default, and request bodies (up to APINODE_MAX_BODY_BYTES) and
 * their garbage need the rest. The largest single tensor that fits is ~48 MiB
 * (docs/isolation-models.md, test/workers/model-heap.test.ts).
 */
const WORKERS_MODEL_MAX_MEMORY_MIB = 64;
let capped = false;

/** Caps onnxruntime's heap, once, before it starts (it starts on the first model load, after this). */
function capModelHeap(vars: Record<string, string>, mib: number): void {
  if (capped || ready) return;
  capped = true;
  capWasmHeap((vars.APINODE_MODEL_MAX_MEMORY_MIB === undefined ? WORKERS_MODEL_MAX_MEMORY_MIB : mib) * MiB);
}

/** Loading the probe initialises ORT; a failed start is not remembered, so a later request retries it. */
function start(): Promise<ModelRuntime> {
  return ortRuntime.load(PROBE).then(
    (probe) => (probe.release(), ortRuntime),
    (e: unknown) => {
      ready = null;
      log.error('onnxruntime-web did not start', { error: describe(e).slice(0, 1000) });
      throw ApiError.unavailable('MODEL_RUNTIME_UNAVAILABLE', 'The model runtime could not start; retry shortly', 'onnxruntime-web failed to initialise its WebAssembly backend');
    },
  );
}

/** ORT, initialised once per isolate, on the first model load. */
const load: ModelRuntime['load'] = async (model) => (await (ready ??= start())).load(model);

/** stdout: lines wait in memory and are written (console.log, one JSON line each) in waitUntil. */
const consoleLines = (chunk: string) => {
  for (const line of chunk.split('\n')) if (line) console.log(line);
};

let queryLog: QueryLogSink | null = null;
/** Background work of every request in flight: the app is per isolate, waitUntil is per request. */
const pending = new Set<Promise<unknown>>();
let node: App | null = null;

function build(env: Env): App {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const background = (p: Promise<unknown>) => {
    const tracked = p.catch((e: unknown) => log.warn('background work failed', { error: describe(e) })).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  // No I/O may outlive its request on Workers: each SQL call opens (and closes) its own connection.
  const sql = connectionLookup(neonConnections(vars, log, { connectionPerCall: true }));
  const docsAssets = docsFrom(env.ASSETS as Fetcher | undefined);
  const config = parseConfig(vars);
  capModelHeap(vars, config.modelMaxMemoryMiB);
  // Imports check models in this isolate: the budget is measured on its heap, after the fact.
  const models: ModelRuntime = { load, heapBytes, importBudget: { maxMs: config.importModelMaxMs, maxMemoryBytes: config.importModelMaxMemoryMiB * MiB } };
  // The store sink writes to the optional QUERY_LOG bucket, else GENERATIONS; a batch waits at most 20 s (waitUntil lasts 30 s after the answer).
  const logBucket = (env as { QUERY_LOG?: R2Bucket }).QUERY_LOG ?? env.GENERATIONS;
  const queryLogStore = new R2ObjectStore(logBucket);
  queryLog = queryLogSinks(config, { stdout: () => batchedQueryLog(consoleLines, { macrotask: true }), store: () => queryLogStore, timers: true, maxFlushS: 20, log });
  return createApp({ store: new R2ObjectStore(env.GENERATIONS), models, queryLog, log, background, requestBoundIo: true, sql, codeWasm: quickjsWasm, docsAssets, queryLogStore }, config);
}

/** Swagger UI's files, deployed as static assets (wrangler.toml [assets]); absent where the Worker runs without them. */
const docsFrom = (assets: Fetcher | undefined): DocsAssets | undefined =>
  assets &&
  (async (file) => {
    const res = await assets.fetch(`https://assets.invalid/${file}`);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  });

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    node ??= build(env);
    const res = await node.app.fetch(req);
    ctx.waitUntil(Promise.all([queryLog?.settle(), ...pending]));
    return res;
  },
  // The Cron Trigger (wrangler.toml [triggers]): the guarded rollouts' every-minute pass (docs/rollouts.md).
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext): Promise<void> {
    node ??= build(env);
    // Decisions and failures are logged by the controller; a pass with nothing to do says nothing.
    ctx.waitUntil(node.deps.rollouts.controller.advanceAll());
  },
} satisfies ExportedHandler<Env>;
