import { z } from 'zod';

/** The version of a query-log line (`v`): a change a reader must know about bumps it. */
export const QUERY_LOG_VERSION = 1;

/**
 * One line of the query log: one scored record, or one failed request (docs/query-log.md).
 * Stored as gzip-compressed NDJSON objects at queryLogKey(...), or written to stdout / a collector.
 */
export const queryLogLineSchema = z.object({
  v: z.literal(QUERY_LOG_VERSION),
  /** ISO 8601 UTC, when the request arrived. */
  time: z.string(),
  requestId: z.string(),
  serviceId: z.string(),
  endpointId: z.string(),
  generation: z.string(),
  /** The action's name: predict, predict-multi, run, query, lookup, forecast, oip-infer, … */
  action: z.string(),
  /** Index of the record within the request (0 for single-record actions and for errors). */
  record: z.number().int().min(0),
  /** The API key's label, never the key; null for an open service. */
  caller: z.string().nullable(),
  /** As the model saw them (after enrichment), capped: a value too large is {truncated: true, bytes}. Null on an error line. */
  features: z.unknown(),
  context: z.unknown(),
  /** For predictions: the DSS result object (prediction, probas, …). Null on an error line. */
  result: z.unknown(),
  /** Microseconds, for the whole request the record was part of. */
  timing: z.record(z.string(), z.number()),
  status: z.enum(['ok', 'error']),
  /** When status is 'error': the errorType answered and its HTTP status. */
  error: z.object({ type: z.string(), httpStatus: z.number().int() }).optional(),
});

/** One line of the query log: one scored record, or one failed request. */
export interface QueryLogLine {
  v: 1;
  time: string;
  requestId: string;
  serviceId: string;
  endpointId: string;
  generation: string;
  action: string;
  record: number;
  caller: string | null;
  features: unknown;
  context: unknown;
  result: unknown;
  timing: Record<string, number>;
  status: 'ok' | 'error';
  error?: { type: string; httpStatus: number };
}

// The interface is the contract; the schema must parse to it (and back).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatches: Same<Required<z.infer<typeof queryLogLineSchema>>, Required<QueryLogLine>> = true;
void schemaMatches;

export const QUERY_LOG_PREFIX = 'querylog/';

interface Partition {
  /** @default 'querylog/' */
  prefix?: string;
  serviceId: string;
  endpointId: string;
  time: Date;
}

/** Ids are restricted to [A-Za-z0-9_.-] by the node; anything else is percent-encoded, never a separator. */
const segment = (s: string) => encodeURIComponent(s).replace(/\./g, (dot, i: number) => (i === 0 ? '%2E' : dot));
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * The key prefix of one hour's partition, hive style, UTC:
 * `${prefix}service=S/endpoint=E/date=YYYY-MM-DD/hour=HH/`.
 */
export function queryLogHourPrefix(p: Partition): string {
  const t = p.time;
  if (Number.isNaN(t.getTime())) throw new RangeError('queryLogHourPrefix: invalid time');
  const date = `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}`;
  return `${p.prefix ?? QUERY_LOG_PREFIX}service=${segment(p.serviceId)}/endpoint=${segment(p.endpointId)}/date=${date}/hour=${pad(t.getUTCHours(), 2)}/`;
}

/**
 * Object key of one batch: partitioned for Athena / DuckDB / R2 SQL,
 * `…/hour=HH/${instance}-${seq as 6 digits}.ndjson.gz`. Keys of one instance sort by seq.
 */
export function queryLogKey(p: Partition & { instance: string; seq: number }): string {
  if (!Number.isInteger(p.seq) || p.seq < 0) throw new RangeError(`queryLogKey: seq must be a non-negative integer, got ${p.seq}`);
  return `${queryLogHourPrefix(p)}${segment(p.instance)}-${pad(p.seq, 6)}.ndjson.gz`;
}

/** One query-log sink's counters, in the metrics snapshot (lines, not requests). */
export const QueryLogSinkStats = z.object({
  sink: z.string(),
  /** Lines the sink accepted for good (stored, or answered 2xx by the collector). */
  delivered: z.number(),
  /** Lines given up on: the buffer was full, or every attempt to deliver them failed. */
  dropped: z.number(),
  /** Bytes of JSON lines held in memory now, waiting or being delivered. */
  bufferedBytes: z.number(),
});
export type QueryLogSinkStats = z.infer<typeof QueryLogSinkStats>;
