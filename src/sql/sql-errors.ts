import { ApiError, describe } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { isClientSqlState } from './sql-client.js';

/**
 * A driver failure as the caller may see it: 503 when the database is unreachable or too slow,
 * 400 when a parameter value is invalid for its type, 500 for the endpoint's own SQL. The
 * body carries the SQLSTATE at most; the full driver message goes to the operational log only.
 */
export function sqlError(e: unknown, connection: string, log: Logger): ApiError {
  if (e instanceof ApiError) return e;
  const code = (e as { code?: string }).code;
  log.warn('sql error', { connection, code, error: describe(e) });
  if (code === '57014') return ApiError.unavailable('SQL_TIMEOUT', 'The query ran longer than the endpoint allows');
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    if (isClientSqlState(code)) return ApiError.badRequest('SQL_INVALID_PARAMETER', 'A parameter value is not valid for the query', `SQLSTATE ${code}`);
    if (code.startsWith('08') || code.startsWith('53') || code.startsWith('57')) return ApiError.unavailable('SQL_UNAVAILABLE', `The database "${connection}" is not available`, `SQLSTATE ${code}`);
    return new ApiError(500, 'SQL_ERROR', "The endpoint's query failed", `SQLSTATE ${code}`);
  }
  return ApiError.unavailable('SQL_UNAVAILABLE', `The database "${connection}" cannot be reached`);
}
