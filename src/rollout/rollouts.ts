import type { Logger } from '../observability/logger.js';
import type { ObjectStore } from '../storage/object-store.js';
import { RolloutController } from './controller.js';
import { MetricWindows } from './metric-windows.js';
import { ServiceMappings } from './service-mapping.js';

/** What the node keeps for guarded rollouts: this instance's metric windows, and the controller. */
export interface Rollouts {
  /** Null when APINODE_METRIC_WINDOWS=off: this instance's traffic does not count in rollout decisions. */
  readonly windows: MetricWindows | null;
  readonly controller: RolloutController;
}

export interface RolloutsOptions {
  readonly store: ObjectStore;
  readonly now: () => number;
  readonly log: Logger;
  /** Drops this instance's cached service.json after the controller changed its mapping. */
  readonly invalidate: (serviceId: string) => void;
  readonly windows: boolean;
  /** Least time between two writes of the metric windows. @default 60000 */
  readonly windowsEveryMs?: number;
}

export function createRollouts(o: RolloutsOptions): Rollouts {
  return {
    windows: o.windows ? new MetricWindows(o.store, { now: o.now, log: o.log, ...(o.windowsEveryMs ? { flushEveryMs: o.windowsEveryMs } : {}) }) : null,
    controller: new RolloutController({ store: o.store, mappings: new ServiceMappings(o.store, o.invalidate), now: o.now, log: o.log }),
  };
}
