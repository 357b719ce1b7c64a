import type { SqlQueryEndpointSpec } from '@apinode/protocol';
import { z } from 'zod';
import type { SqlConnections } from '../sql/sql-client.js';
import { SqlQueryEndpoint } from '../sql/sql-statement.js';
import { type Action, type Compiled, type EndpointKind } from './kind.js';
import { checkDataEndpoint, connection } from './sql-connection.js';

export { SqlQueryEndpointSpec } from '@apinode/protocol';

type Args = Record<string, unknown>;
const Args = z.record(z.string(), z.unknown());

/** SQL_QUERY: named parameters bound into the endpoint's statements (docs/sql.md). */
class SqlQuery implements Compiled {
  readonly bytes = 0;
  constructor(
    readonly query: SqlQueryEndpoint,
    private readonly sql: SqlConnections,
  ) {}

  run(args: Args) {
    return this.query.run(connection(this.sql, this.query.spec.connection), args);
  }

  dispose(): void {}
}

const query = (method: 'GET' | 'POST', input: Action<SqlQuery, Args>['input']): Action<SqlQuery, Args> => ({
  name: 'query',
  method,
  input,
  run: async (endpoint, args) => ({ body: { ...(await endpoint.run(args)) } }),
});

export const sqlQuery: EndpointKind<'SQL_QUERY', SqlQuery> = {
  actions: [query('POST', { body: Args }), query('GET', { query: (q) => q })],
  preload: false,
  load: async (spec: SqlQueryEndpointSpec, _files, services) => new SqlQuery(new SqlQueryEndpoint(spec), services.sql),
  check: (spec, ctx) =>
    checkDataEndpoint(spec, ctx, () => ({ connection: spec.connection, statements: new SqlQueryEndpoint(spec).checkStatements(), timeoutMs: spec.timeoutMs })),
};
