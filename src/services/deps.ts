import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { QueryLogSink } from '../observability/query-log.js';
import type { Rollouts } from '../rollout/rollouts.js';
import type { SqlConnections } from '../sql/sql-client.js';
import type { Generations } from './generations.js';
import type { ServiceRegistry } from './service-registry.js';

/** What the node's parts need, built once by createApp. */
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
  /** Guarded rollouts: this instance's metric windows and the controller (src/rollout/). */
  readonly rollouts: Rollouts;
}
