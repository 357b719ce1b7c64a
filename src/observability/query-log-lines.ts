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

/** One 'ok' line per scored record; features, context and result each capped at maxFieldBytes. */
export function okLines(
  r: LoggedRequest,
  records: readonly { features: unknown; context?: unknown; result: unknown }[],
  timing: object | undefined,
  maxFieldBytes: number,
): QueryLogLine[] {
  // What every line shares is computed once per request (a 1,000-record batch is 1,000 lines),
  // and each line is an object literal: spreading a shared head costs ~20x more per line.
  const time = new Date(r.arrivedAt).toISOString();
  const t = numericTiming(timing);
  const out: QueryLogLine[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const context = rec.context == null ? null : capped(rec.context, maxFieldBytes);
    out[i] = line(r, time, i, t, capped(rec.features, maxFieldBytes), context, capped(rec.result, maxFieldBytes), 'ok');
  }
  return out;
}

/** The one 'error' line of a request that failed once its endpoint and generation were known (error rates per generation). */
export function errorLine(r: LoggedRequest, e: unknown, timing: object | undefined): QueryLogLine {
  const error = isApiError(e) ? { type: e.errorType, httpStatus: e.status } : { type: 'INTERNAL_ERROR', httpStatus: 500 };
  return { ...line(r, new Date(r.arrivedAt).toISOString(), 0, numericTiming(timing), null, null, null, 'error'), error };
}

function line(r: LoggedRequest, time: string, record: number, timing: Record<string, number>, features: unknown, context: unknown, result: unknown, status: 'ok' | 'error'): QueryLogLine {
  const { requestId, serviceId, endpointId, generation, action, caller } = r;
  return { v: QUERY_LOG_VERSION, time, requestId, serviceId, endpointId, generation, action, record, caller, features, context, result, timing, status };
}
