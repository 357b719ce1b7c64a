import { Hono } from 'hono';
import type { Deps, AppEnv } from './api/env.js';
import { adminRoutes } from './api/admin-routes.js';
import { commonHeaders, errorHandler, notFound, recordMetrics } from './api/http.js';
import { dataRoutes } from './api/data-routes.js';
import { predictRoutes } from './api/predict-routes.js';
import { codeRoutes } from './api/code-routes.js';
import { CodeEndpoints, type SandboxWasm } from './code/code-endpoints.js';
import { timeseriesRoutes } from './api/timeseries-routes.js';
import type { Config } from './config.js';
import type { ModelRuntime } from './inference/model-runtime.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import type { QueryLogSink } from './observability/query-log.js';
import { Generations } from './services/generations.js';
import { ServiceRegistry } from './services/service-registry.js';
import type { ObjectStore } from './storage/object-store.js';
import type { SqlConnections } from './sql/sql-client.js';

/** What a runtime entry provides: the platform's capabilities behind the node's ports. */
export interface Ports {
  readonly store: ObjectStore;
  readonly models: ModelRuntime;
  readonly queryLog: QueryLogSink;
  readonly log: Logger;
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
}

export interface App {
  readonly app: Hono<AppEnv>;
  readonly deps: Deps;
}

/** The one Hono app every runtime serves. Read it as the API's table of contents. */
export function createApp(ports: Ports, config: Config): App {
  const deps: Deps = {
    config,
    log: ports.log,
    random: ports.random ?? Math.random,
    metrics: new Metrics(),
    sql: ports.sql ?? (() => undefined),
    background: ports.background ?? ((p) => void p.catch(() => undefined)),
    queryLog: config.queryLog === 'off' ? null : ports.queryLog,
    registry: new ServiceRegistry(ports.store, { ttlMs: config.configTtlS * 1000, now: ports.now ?? Date.now, log: ports.log }),
    generations: new Generations(ports.store, ports.models, {
      modelCacheBytes: config.modelCacheBytes,
      manifestCacheEntries: config.manifestCacheEntries,
    }),
  };

  const app = new Hono<AppEnv>();
  app.use(commonHeaders);
  app.onError(errorHandler(ports.log));
  app.notFound(notFound);

  app.get('/isAlive', (c) => c.text('OK'));
  app.get('/isAlive/', (c) => c.text('OK'));

  app.use('/public/api/*', recordMetrics(deps.metrics));
  // Code endpoints' self-client calls back into this same app, in-process.
  const code = new CodeEndpoints(deps, ports.codeWasm, async (req) => app.fetch(req));
  app.route('/public/api/v1', predictRoutes(deps, code));
  app.route('/public/api/v1', codeRoutes(deps, code));
  app.route('/public/api/v1', dataRoutes(deps));
  app.route('/public/api/v1', timeseriesRoutes(deps));

  // Mounted only where the deployment enables it (the admin function, or a local node).
  if (config.admin) app.route('/admin/api', adminRoutes(deps, ports.store, ports.models, code.sandbox));

  return { app, deps };
}
