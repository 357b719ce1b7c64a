import { ApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { isClientSqlState } from './sql-client.js';

/**
 * A driver failure as the caller may see it: 503 when the database is unreachable or too slow,
 * 400 when a parameter value is invalid for its type, 500 for the endpoint's own SQL. The
 * body carries the SQLSTATE at most; the full driver message goes to the operational log only.
 */
export function sqlError(e: unknown, connection: string, log: Logger): ApiError {
  if (e instanceof ApiError) return e;
  const { message, code } = failureOf(e);
  log.warn('sql error', { connection, code, error: message });
  if (code === '57014') return ApiError.unavailable('SQL_TIMEOUT', 'The query ran longer than the endpoint allows');
  if (code && isSqlState(code)) {
    if (isClientSqlState(code)) return ApiError.badRequest('SQL_INVALID_PARAMETER', 'A parameter value is not valid for the query', `SQLSTATE ${code}`);
    if (isUnavailableState(code)) return ApiError.unavailable('SQL_UNAVAILABLE', `The database "${connection}" is not available`, `SQLSTATE ${code}`);
    return new ApiError(500, 'SQL_ERROR', "The endpoint's query failed", `SQLSTATE ${code}`);
  }
  return ApiError.unavailable('SQL_UNAVAILABLE', `The database "${connection}" cannot be reached`);
}

/** A call that got no answer within its deadline; its connection has been discarded. */
export function noAnswer(connection: string, phase: 'connect' | 'query', ms: number, log: Logger): ApiError {
  log.warn('sql call abandoned: no answer in time, connection discarded', { connection, phase, afterMs: ms });
  return phase === 'connect'
    ? ApiError.unavailable('SQL_UNAVAILABLE', `The database "${connection}" did not answer in time`, `no answer within ${ms} ms`)
    : ApiError.unavailable('SQL_TIMEOUT', 'The query ran longer than the endpoint allows', `no answer within ${ms} ms`);
}

export const isSqlState = (code: string) => /^[0-9A-Z]{5}$/.test(code);

/** Connection exceptions, insufficient resources, operator intervention (other than a statement timeout). */
export const isUnavailableState = (code: string) => code.startsWith('08') || code.startsWith('53') || (code.startsWith('57') && code !== '57014');

/**
 * The message and code of anything a driver throws, for the operational log: Errors, the
 * ErrorEvent a WebSocket rejects with (its message and inner error), an AggregateError of
 * several connection attempts. Connection strings are masked.
 */
export function failureOf(e: unknown): { message: string; code: string | undefined } {
  const messages: string[] = [];
  let code: string | undefined;
  const visit = (v: unknown, depth: number) => {
    if (v === null || v === undefined || depth > 3) return;
    if (typeof v !== 'object') {
      messages.push(String(v));
      return;
    }
    const o = v as { name?: unknown; message?: unknown; code?: unknown; error?: unknown; errors?: unknown; cause?: unknown; type?: unknown };
    if (typeof o.code === 'string' || typeof o.code === 'number') code ??= String(o.code);
    if (typeof o.message === 'string' && o.message) messages.push(typeof o.name === 'string' && o.name !== 'Error' ? `${o.name}: ${o.message}` : o.message);
    if (Array.isArray(o.errors)) o.errors.forEach((x) => visit(x, depth + 1));
    visit(o.error, depth + 1);
    visit(o.cause, depth + 1);
    if (messages.length === 0 && depth === 0) messages.push(typeof o.type === 'string' ? `${o.type} event` : `${Object.prototype.toString.call(v)} without a message`);
  };
  visit(e, 0);
  const message = [...new Set(messages)].join('; ').slice(0, 500) || 'unknown failure';
  return { message: maskSecrets(message), code };
}

/** Masks the credentials of URLs (postgres://user:password@host): logs and answers never show them. */
export const maskSecrets = (s: string) => s.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@'"]*@/gi, '$1***@');
