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
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmBinary = PLACEHOLDER;
// A start-up that never settles would hang every request: give up (503) after 10 s instead.
ort.env.wasm.initTimeout = 10_000;

/** An Identity model (101 bytes): a failure to load it is the runtime's, not a model's. */
const PROBE = Uint8Array.from(atob('CAgSEmFwaW5vZGUtZGVtby1idWlsZDpHChwKAXgSAXkaCklkZW50aXR5XzAiCElkZW50aXR5EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0='), (c) => c.charCodeAt(0));
const ortRuntime = ortModelRuntime(ort);
const log = jsonLogger((line) => console.error(line));
let ready: Promise<ModelRuntime> | null = null;

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
const models: ModelRuntime = { load: async (model) => (await (ready ??= start())).load(model) };

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
