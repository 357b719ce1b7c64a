import { QUERY_LOG_VERSION, type QueryLogLine } from '@apinode/protocol';
import { isApiError } from '../errors.js';
import { capped } from './query-log.js';

/** What every line of one request shares. */
export interface LoggedRequest {
  /** When the request arrived (ms since the epoch). */
  readonly arrivedAt: number;
  readonly requestId: string;
  readonly serviceId: string;
  readonly endpointId: string;
  readonly generation: string;
  readonly action: string;
  readonly caller: string | null;
}

/** Only the numbers of an answer's timing (microseconds): the schema's Record<string, number>. */
export function numericTiming(timing: object | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(timing ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

const head = (r: LoggedRequest, record: number, timing: object | undefined) => ({
  v: QUERY_LOG_VERSION,
  time: new Date(r.arrivedAt).toISOString(),
  requestId: r.requestId,
  serviceId: r.serviceId,
  endpointId: r.endpointId,
  generation: r.generation,
  action: r.action,
  record,
  caller: r.caller,
  timing: numericTiming(timing),
}) as const;

/** One 'ok' line per scored record; features, context and result each capped at maxFieldBytes. */
export function okLines(
  r: LoggedRequest,
  records: readonly { features: unknown; context?: unknown; result: unknown }[],
  timing: object | undefined,
  maxFieldBytes: number,
): QueryLogLine[] {
  const cap = (v: unknown) => capped(v, maxFieldBytes);
  return records.map((rec, i) => ({ ...head(r, i, timing), features: cap(rec.features), context: cap(rec.context ?? null), result: cap(rec.result), status: 'ok' }));
}

/** The one 'error' line of a request that failed once its endpoint and generation were known (error rates per generation). */
export function errorLine(r: LoggedRequest, e: unknown, timing: object | undefined): QueryLogLine {
  const error = isApiError(e) ? { type: e.errorType, httpStatus: e.status } : { type: 'INTERNAL_ERROR', httpStatus: 500 };
  return { ...head(r, 0, timing), features: null, context: null, result: null, status: 'error', error };
}
