import { ApiError } from '../errors.js';
import type { SqlClient, SqlConnections } from '../sql/sql-client.js';

/** The named connection, or 503 saying how to configure it. */
export function connection(sql: SqlConnections, name: string): SqlClient {
  const client = sql(name);
  if (!client) throw ApiError.unavailable('SQL_NOT_CONFIGURED', `No database connection named "${name}" is configured on this node`, `set APINODE_SQL_${name.toUpperCase()}`);
  return client;
}
