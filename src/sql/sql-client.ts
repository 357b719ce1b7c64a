/** A statement's answer as the DSS API shapes it: Postgres type names, text values. */
export interface SqlRows {
  readonly columns: { name: string; type: string }[];
  /** Values in Postgres text format; SQL NULL stays null. */
  readonly rows: (string | null)[][];
  readonly updatedRows: number;
}

export interface SqlStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** How one statement fared in a check: it ran, or Postgres refused it with a SQLSTATE and a message about the statement. */
export type SqlCheckOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * The SqlClient port: Postgres through the Neon serverless driver (any runtime) or PGlite
 * (embedded, Node). Statements of one call run in one transaction with a statement timeout,
 * and the whole call is bounded on the client side too: timeoutMs plus CLIENT_MARGIN_MS, after
 * which the connection is discarded (a database that accepts and never answers).
 * Implementations throw ApiError: 503 SQL_UNAVAILABLE when the database cannot be reached,
 * 503 SQL_TIMEOUT when it does not answer in time, 400/500 with a safe message for SQL errors
 * (never the connection string or driver internals).
 */
export interface SqlClient {
  run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]>;
  /**
   * Runs the statements in order in one transaction that always rolls back (import checks):
   * each under a savepoint, so one that fails does not stop the next. SQL errors are outcomes;
   * an unreachable or silent database throws as in run(). Absent on a client that cannot check
   * (then imports only compile the SQL).
   */
  check?(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlCheckOutcome[]>;
  close(): Promise<void>;
}

/** Beyond an endpoint's timeoutMs, how long the client waits for the server's own statement timeout before it gives up on the connection. */
export const CLIENT_MARGIN_MS = 250;

/**
 * What every transaction sets first: the statement timeout, and standard-conforming strings, on
 * which the statement compiler's reading of string literals relies (src/sql/sql-lexer.ts).
 */
export const transactionSettings = (timeoutMs: number) => `SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))}; SET LOCAL standard_conforming_strings = on`;

/** Named connections: APINODE_SQL_<NAME>, or the runtime's secret binding. */
export type SqlConnections = (name: string) => SqlClient | undefined;

/** Names of the common Postgres type OIDs (pg_type.typname). */
const TYPE_NAMES: Record<number, string> = {
  16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 23: 'int4', 25: 'text', 26: 'oid',
  114: 'json', 700: 'float4', 701: 'float8', 1042: 'bpchar', 1043: 'varchar', 1082: 'date', 1083: 'time',
  1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1700: 'numeric', 2950: 'uuid', 3802: 'jsonb',
  1000: '_bool', 1005: '_int2', 1007: '_int4', 1016: '_int8', 1009: '_text', 1015: '_varchar', 1021: '_float4', 1022: '_float8',
};
export const typeName = (oid: number): string => TYPE_NAMES[oid] ?? `oid${oid}`;

/** SQLSTATE classes that are the caller's fault (bad input for a declared parameter). */
export function isClientSqlState(code: string | undefined): boolean {
  return !!code && (code.startsWith('22') || code === '23505' || code === '23503' || code === '23502' || code === '23514');
}
