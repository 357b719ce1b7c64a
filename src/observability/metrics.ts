import type { MetricsSnapshot, QueryLogSinkStats } from '@apinode/protocol';

/** Upper bounds of the latency buckets, in milliseconds (also the rollout windows' and dashboards' histogram). */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
const BOUNDS_MS = LATENCY_BOUNDS_MS;

/** The bucket of a latency: the first bound it does not exceed, or BOUNDS_MS.length past the last. */
export function latencyBucket(ms: number): number {
  const b = BOUNDS_MS.findIndex((bound) => ms <= bound);
  return b === -1 ? BOUNDS_MS.length : b;
}

/** Same arguments as `Metrics.record`: what else sees each recorded request (EMF on Lambda). */
export type MetricsListener = (serviceId: string, endpointId: string, generation: string, ms: number, records: number, errorType: string | undefined) => void;
/** Distinct (service, endpoint, generation) series kept; the rest count under "(other)". */
const MAX_SERIES = 5000;

interface Series {
  serviceId: string;
  endpointId: string;
  generation: string;
  requests: number;
  records: number;
  errors: Record<string, number>;
  count: number;
  sumMs: number;
  buckets: number[];
}

/** Per-instance counters and latency histograms per service/endpoint/generation. */
export class Metrics {
  private readonly since = new Date().toISOString();
  private readonly series = new Map<string, Series>();
  private readonly errors: Record<string, number> = {};
  private readonly listeners: MetricsListener[] = [];

  /** @param queryLog the query-log sinks' counters (delivered, dropped, buffered), read when the metrics are. */
  constructor(private readonly queryLog: () => readonly QueryLogSinkStats[] = () => []) {}

  /** Calls `listener` with every request recorded from now on. */
  listen(listener: MetricsListener): void {
    this.listeners.push(listener);
  }

  record(serviceId: string, endpointId: string, generation: string, ms: number, records: number, errorType: string | undefined): void {
    for (const l of this.listeners) l(serviceId, endpointId, generation, ms, records, errorType);
    let key = `${serviceId}\u0000${endpointId}\u0000${generation}`;
    if (!this.series.has(key) && this.series.size >= MAX_SERIES) [serviceId, endpointId, generation, key] = ['(other)', '(other)', '(other)', '(other)'];
    let s = this.series.get(key);
    if (!s) {
      s = { serviceId, endpointId, generation, requests: 0, records: 0, errors: {}, count: 0, sumMs: 0, buckets: BOUNDS_MS.map(() => 0) };
      this.series.set(key, s);
    }
    s.requests++;
    s.records += records;
    s.count++;
    s.sumMs += ms;
    const b = latencyBucket(ms);
    if (b < BOUNDS_MS.length) s.buckets[b]!++;
    if (errorType) {
      s.errors[errorType] = (s.errors[errorType] ?? 0) + 1;
      this.errors[errorType] = (this.errors[errorType] ?? 0) + 1;
    }
  }

  snapshot(): MetricsSnapshot {
    return {
      since: this.since,
      endpoints: [...this.series.values()].map((s) => ({
        serviceId: s.serviceId,
        endpointId: s.endpointId,
        generation: s.generation,
        requests: s.requests,
        records: s.records,
        errors: { ...s.errors },
        latency: { count: s.count, sumMs: round(s.sumMs), buckets: Object.fromEntries(cumulative(s.buckets).map((n, i) => [String(BOUNDS_MS[i]), n])) },
      })),
      errors: { ...this.errors },
      queryLog: this.queryLog().map((s) => ({ ...s })),
    };
  }

  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const lines = [
      '# HELP apinode_requests_total Requests per endpoint and generation.',
      '# TYPE apinode_requests_total counter',
    ];
    const labels = (s: Series) => `service="${esc(s.serviceId)}",endpoint="${esc(s.endpointId)}",generation="${esc(s.generation)}"`;
    for (const s of this.series.values()) lines.push(`apinode_requests_total{${labels(s)}} ${s.requests}`);
    lines.push('# HELP apinode_records_total Records scored.', '# TYPE apinode_records_total counter');
    for (const s of this.series.values()) lines.push(`apinode_records_total{${labels(s)}} ${s.records}`);
    lines.push('# HELP apinode_errors_total Errors by errorType.', '# TYPE apinode_errors_total counter');
    for (const s of this.series.values()) for (const [t, n] of Object.entries(s.errors)) lines.push(`apinode_errors_total{${labels(s)},error_type="${esc(t)}"} ${n}`);
    lines.push('# HELP apinode_request_duration_seconds Request latency.', '# TYPE apinode_request_duration_seconds histogram');
    for (const s of this.series.values()) {
      cumulative(s.buckets).forEach((n, i) => lines.push(`apinode_request_duration_seconds_bucket{${labels(s)},le="${(BOUNDS_MS[i] as number) / 1000}"} ${n}`));
      lines.push(`apinode_request_duration_seconds_bucket{${labels(s)},le="+Inf"} ${s.count}`);
      lines.push(`apinode_request_duration_seconds_sum{${labels(s)}} ${s.sumMs / 1000}`);
      lines.push(`apinode_request_duration_seconds_count{${labels(s)}} ${s.count}`);
    }
    const sinks = this.queryLog();
    lines.push('# HELP apinode_querylog_lines_total Query-log lines a sink delivered.', '# TYPE apinode_querylog_lines_total counter');
    for (const s of sinks) lines.push(`apinode_querylog_lines_total{sink="${esc(s.sink)}"} ${s.delivered}`);
    lines.push('# HELP apinode_querylog_dropped_total Query-log lines a sink dropped (buffer full, or delivery failed).', '# TYPE apinode_querylog_dropped_total counter');
    for (const s of sinks) lines.push(`apinode_querylog_dropped_total{sink="${esc(s.sink)}"} ${s.dropped}`);
    lines.push('# HELP apinode_querylog_buffered_bytes Query-log bytes a sink holds in memory.', '# TYPE apinode_querylog_buffered_bytes gauge');
    for (const s of sinks) lines.push(`apinode_querylog_buffered_bytes{sink="${esc(s.sink)}"} ${s.bufferedBytes}`);
    return lines.join('\n') + '\n';
  }
}

const cumulative = (xs: number[]) => xs.map(((sum) => (x: number) => (sum += x))(0));
const round = (x: number) => Math.round(x * 1000) / 1000;
const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
