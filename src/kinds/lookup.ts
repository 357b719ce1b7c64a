import { LookupMultiRequest, LookupRequest, type LookupEndpointSpec } from '@apinode/protocol';
import { Lookup } from '../sql/lookup.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { type Action, type Compiled, type EndpointKind } from './kind.js';
import { checkDataEndpoint, connection } from './sql-connection.js';

export { LookupEndpointSpec } from '@apinode/protocol';

type Keys = Record<string, unknown>;

/** DATASETS_LOOKUP: rows of a table by key, every batch in one round trip (docs/sql.md). */
class DatasetLookup implements Compiled {
  readonly bytes = 0;
  constructor(
    private readonly lookup: Lookup,
    private readonly sql: SqlConnections,
  ) {}

  async run(items: Keys[]) {
    return { body: { results: await this.lookup.run(connection(this.sql, this.lookup.spec.connection), items) }, records: items.length };
  }

  dispose(): void {}
}

const action = <I>(name: string, method: 'GET' | 'POST', input: Action<DatasetLookup, I>['input'], keys: (input: I) => Keys[]): Action<DatasetLookup, I> => ({
  name,
  method,
  input,
  run: (endpoint, body) => endpoint.run(keys(body)),
});

export const lookup: EndpointKind<'DATASETS_LOOKUP', DatasetLookup> = {
  actions: [
    action('lookup', 'POST', { body: LookupRequest }, (b) => [b.data]),
    action('lookup-multi', 'POST', { body: LookupMultiRequest }, (b) => b.items.map((i) => i.data)),
    action('lookup-simple', 'GET', { query: (q) => q }, (q) => [q]),
  ],
  preload: false,
  load: async (spec: LookupEndpointSpec, _files, services) => new DatasetLookup(new Lookup(spec), services.sql),
  check: (spec, ctx) => checkDataEndpoint(spec, ctx, () => ({ connection: spec.connection, statements: [new Lookup(spec).checkStatement()], timeoutMs: Lookup.TIMEOUT_MS })),
};
