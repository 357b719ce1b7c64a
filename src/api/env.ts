import type { Bound } from './call.js';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { QueryLogSink } from '../observability/query-log.js';
import type { Generations } from '../services/generations.js';
import type { ServiceRegistry } from '../services/service-registry.js';
import type { SqlConnections } from '../sql/sql-client.js';

/** What routes need, built once by createApp. */
export interface Deps {
  readonly config: Config;
  readonly registry: ServiceRegistry;
  readonly generations: Generations;
  readonly queryLog: QueryLogSink | null;
  readonly log: Logger;
  readonly random: () => number;
  readonly metrics: Metrics;
  /** Named database connections (SQL_QUERY, DATASETS_LOOKUP, enrichment). */
  readonly sql: SqlConnections;
  /** Runs background work without delaying the answer (waitUntil on Workers). */
  readonly background: (p: Promise<unknown>) => void;
}

/** Per-request variables, typed through Hono's generic. */
export interface Vars {
  requestId: string;
  /** performance.now() when the request reached the app. */
  startedAt: number;
  /** Set once known, for metrics: the generation that answered, records scored, the error. */
  generation?: string;
  /** The request bound to its generation and endpoint (set by admitAndBind). */
  bound: Bound;
  records?: number;
  errorType?: string;
}

export type AppEnv = { Variables: Vars };
