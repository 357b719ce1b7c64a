import { ERROR_TYPES } from '@apinode/protocol';

/** The CloudWatch namespace of the node's metrics (infra/lib/dashboard.ts reads the same). */
export const EMF_NAMESPACE = 'apinode';
/** Values one metric of one EMF line may carry (CloudWatch's limit). */
const MAX_VALUES = 100;

/** What one invocation did for one (service, endpoint, generation) series. */
export interface InvocationSeries {
  readonly serviceId: string;
  readonly endpointId: string;
  readonly generation: string;
  readonly requests: number;
  /** Answers with a 5xx status. */
  readonly serverErrors: number;
  /** Answers with a 4xx status. */
  readonly clientErrors: number;
  /** Whether a request named an endpoint (or route) that does not exist: its id is the caller's, not the node's. */
  readonly unknownEndpoint: boolean;
  /** The latency of each request, in ms (at most the 100 CloudWatch takes in one line). */
  readonly latenciesMs: readonly number[];
}

type Mutable = { -readonly [K in keyof InvocationSeries]: InvocationSeries[K] } & { latenciesMs: number[] };

const statusOf = (errorType: string): number => {
  const info = (ERROR_TYPES as Record<string, { status: readonly number[] } | undefined>)[errorType];
  // The metrics count the user API, where the types that carry two statuses answer the larger (503).
  return info ? Math.max(...info.status) : 500;
};

/** Series one batch keeps at most: an invocation serves one request, so this is only a bound. */
const MAX_SERIES = 100;

/**
 * The requests of one invocation, per series, as the node's metrics record them (same
 * arguments as `Metrics.record`), drained into EMF lines before the handler returns.
 * Requests that reached no generation (`-`: unknown service, refused credentials, a body
 * refused before dispatch) and the overflow series are left out: they belong to no
 * generation, and their ids are the caller's.
 */
export class EmfBatch {
  private series = new Map<string, Mutable>();

  record(serviceId: string, endpointId: string, generation: string, ms: number, _records: number, errorType: string | undefined): void {
    if (generation === '-' || generation === '(other)') return;
    const key = `${serviceId}\u0000${endpointId}\u0000${generation}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) return;
      s = { serviceId, endpointId, generation, requests: 0, serverErrors: 0, clientErrors: 0, unknownEndpoint: false, latenciesMs: [] };
      this.series.set(key, s);
    }
    s.requests++;
    if (s.latenciesMs.length < MAX_VALUES) s.latenciesMs.push(round(ms));
    if (!errorType) return;
    const status = statusOf(errorType);
    if (status >= 500) s.serverErrors++;
    else if (status >= 400) s.clientErrors++;
    if (status === 404) s.unknownEndpoint = true;
  }

  /** The EMF lines of what was recorded since the last drain; empty when nothing was. */
  drain(timestampMs: number, namespace = EMF_NAMESPACE): string[] {
    const lines = emfLines([...this.series.values()], timestampMs, namespace);
    this.series = new Map();
    return lines;
  }
}

/**
 * CloudWatch embedded-metric-format lines, one per series: Requests, Errors (5xx), ClientErrors
 * (4xx) and Latency (ms) under the dimension sets [Service, Generation] (what the dashboards and a
 * rollout look at) and [Service, Endpoint, Generation]. A request for an endpoint that does not
 * exist is counted under [Service, Generation] only, so that callers cannot mint metrics by
 * inventing endpoint ids.
 */
export function emfLines(deltas: readonly InvocationSeries[], timestampMs: number, namespace = EMF_NAMESPACE): string[] {
  return deltas.map((d) => {
    const dimensions = d.unknownEndpoint ? [['Service', 'Generation']] : [['Service', 'Generation'], ['Service', 'Endpoint', 'Generation']];
    const latency = d.latenciesMs.length === 1 ? d.latenciesMs[0] : d.latenciesMs;
    return JSON.stringify({
      _aws: {
        Timestamp: timestampMs,
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: dimensions,
            Metrics: [
              { Name: 'Requests', Unit: 'Count' },
              { Name: 'Errors', Unit: 'Count' },
              { Name: 'ClientErrors', Unit: 'Count' },
              { Name: 'Latency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Service: d.serviceId,
      Endpoint: d.endpointId,
      Generation: d.generation,
      Requests: d.requests,
      Errors: d.serverErrors,
      ClientErrors: d.clientErrors,
      Latency: latency,
    });
  });
}

const round = (x: number) => Math.round(x * 1000) / 1000;
