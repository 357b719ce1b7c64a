import { Hono } from 'hono';
import type { AppEnv } from './api/env.js';
import { adminRoutes } from './api/admin-routes.js';
import { recordMetricWindows } from './api/admin-rollout-routes.js';
import { corsForServices } from './api/cors.js';
import { docsPage, type DocsAssets } from './api/docs-page.js';
import { endpointRoutes } from './api/endpoint-routes.js';
import { commonHeaders, errorHandler, notFound, recordMetrics } from './api/http.js';
import { oipRoutes, recordOipMetrics } from './api/oip/routes.js';
import { adminOpenApiRoutes, openApiRoutes } from './api/openapi/routes.js';
import { CodeRuntime } from './code/code-runtime.js';
import type { CodeEngine, CodeEngineOptions } from './code/engine.js';
import { CodeSandbox, type SandboxWasm } from './code/sandbox.js';
import type { Config } from './config.js';
import type { ModelRuntime } from './inference/model-runtime.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import type { QueryLogSink } from './observability/query-log.js';
import { createRollouts } from './rollout/rollouts.js';
import type { Deps } from './services/deps.js';
import { setPredictBatching } from './kinds/prediction-batch.js';
import { Generations } from './services/generations.js';
import { bucketImports, type ImportSource } from './services/import-source.js';
import { ServiceRegistry } from './services/service-registry.js';
import type { ObjectStore } from './storage/object-store.js';
import type { SqlConnections } from './sql/sql-client.js';

/** What a runtime entry provides: the platform's capabilities behind the node's ports. */
export interface Ports {
  readonly store: ObjectStore;
  readonly models: ModelRuntime;
  readonly queryLog: QueryLogSink;
  readonly log: Logger;
  /**
   * Workers: I/O belongs to the request that started it, and so does whoever awaits a promise it
   * settles; the registry does not make concurrent requests wait for one another's reads
   * (ServiceRegistryOptions.requestBoundIo). @default false
   */
  readonly requestBoundIo?: boolean;
  /** Background work that must not delay the answer: waitUntil on Workers. @default - fire and forget */
  readonly background?: (p: Promise<unknown>) => void;
  /** Named database connections. @default - none: SQL and lookup endpoints answer 503 SQL_NOT_CONFIGURED */
  readonly sql?: SqlConnections;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** The code sandbox's QuickJS WebAssembly module. @default - the package loads its own .wasm file (Node, Lambda) */
  readonly codeWasm?: SandboxWasm;
  /** Where code endpoints run: a pool of threads on Node and Lambda (docs/isolation.md). @default - this thread, like Workers; also when APINODE_CODE_WORKERS=0 */
  readonly codeEngine?: (options: CodeEngineOptions) => CodeEngine;
  /** Where the admin importFromArchive reads archives. @default - object keys under "imports/" in the store (Lambda, Workers) */
  readonly imports?: ImportSource;
  /** Where the query log's store sink writes, read back by the drift report. @default - the store */
  readonly queryLogStore?: ObjectStore;
  /** Swagger UI's files for the /docs page. @default - none: the page says it cannot show the documents */
  readonly docsAssets?: DocsAssets;
}

export interface App {
  readonly app: Hono<AppEnv>;
  readonly deps: Deps;
}

/** The one Hono app every runtime serves. Read it as the API's table of contents. */
export function createApp(ports: Ports, config: Config): App {
  setPredictBatching(config.predictBatching);
  const sql = ports.sql ?? (() => undefined);
  // Code endpoints' self-client calls back into this same app, in-process.
  const engine = ports.codeEngine && config.codeWorkers > 0 ? ports.codeEngine({ workers: config.codeWorkers, recycleMiB: config.codeRecycleMiB }) : undefined;
  const code = new CodeRuntime(new CodeSandbox(ports.codeWasm, { engine, caps: config.codeCaps }), async (req) => app.fetch(req), ports.log);
  const deps: Deps = {
    config,
    log: ports.log,
    random: ports.random ?? Math.random,
    metrics: new Metrics(() => ports.queryLog.stats()),
    sql,
    background: ports.background ?? ((p) => void p.catch(() => undefined)),
    rollouts: createRollouts({ store: ports.store, now: ports.now ?? Date.now, log: ports.log, invalidate: (id) => deps.registry.invalidate(id), windows: config.metricWindows, windowsEveryMs: config.metricWindowsEveryS * 1000 }),
    queryLog: config.queryLog.length === 0 ? null : ports.queryLog,
    registry: new ServiceRegistry(ports.store, { ttlMs: config.configTtlS * 1000, now: ports.now ?? Date.now, log: ports.log, requestBoundIo: ports.requestBoundIo ?? false }),
    generations: new Generations(ports.store, { models: ports.models, sql, code, log: ports.log }, {
      modelCacheBytes: config.modelCacheBytes,
      manifestCacheEntries: config.manifestCacheEntries,
    }),
  };

  // Every route answers with or without a trailing slash: the DSS Python client posts to
  // "services/", curl users type "predict-simple/". Routes mounted below inherit it, as
  // app.route merges them into this one router.
  const app = new Hono<AppEnv>({ strict: false });
  app.use(commonHeaders);
  app.onError(errorHandler(ports.log));
  app.notFound(notFound);

  app.get('/isAlive', (c) => c.text('OK'));

  // CORS per service (service.json "cors"), ahead of auth and metrics: preflights end here.
  const cors = corsForServices(deps);
  app.use('/public/api/*', cors);
  app.use('/oip/*', cors);

  app.use('/public/api/*', recordMetrics(deps.metrics));
  // Per-generation minute windows in the bucket, summed across instances by guarded rollouts (src/rollout/).
  app.use('/public/api/*', recordMetricWindows(deps));
  // Every action of every endpoint kind (src/kinds/registry.ts).
  app.route('/public/api/v1', endpointRoutes(deps));
  // OpenAPI documents (src/api/openapi/; a service's is admitted like a call) and the page that shows them.
  app.route('/', openApiRoutes(deps));
  app.route('/docs', docsPage(ports.docsAssets, config.admin));

  app.use('/oip/*', recordOipMetrics(deps.metrics));
  app.use('/oip/*', recordMetricWindows(deps));
  // The Open Inference Protocol v2 (KServe, Triton, MLServer clients), one base URL per service.
  app.route('/oip', oipRoutes(deps));

  // Mounted only where the deployment enables it (the admin function, or a local node).
  if (config.admin) {
    const imports = ports.imports ?? bucketImports(ports.store);
    app.route('/', adminOpenApiRoutes());
    app.route('/admin/api', adminRoutes(deps, { store: ports.store, runtime: ports.models, imports, sandbox: code.sandbox, queryLogStore: ports.queryLogStore }));
  }

  return { app, deps };
}
