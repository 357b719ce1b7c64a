import { Hono, type Context } from 'hono';
import { LookupMultiRequest, LookupRequest } from '@apinode/protocol';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import { Lookup } from '../endpoints/lookup.js';
import { SqlQueryEndpoint } from '../endpoints/sql-query.js';
import type { SqlClient } from '../sql/sql-client.js';
import { admitAndBind, apiContext, ofKind, type Bound } from './call.js';
import type { AppEnv, Deps } from './env.js';
import { readJson } from './http.js';

const Args = z.record(z.string(), z.unknown());

/** SQL_QUERY (query) and DATASETS_LOOKUP (lookup, lookup-multi, lookup-simple) endpoints. */
export function dataRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Compiled endpoints per generation and endpoint: generations are immutable.
  const queries = new WeakMap<object, SqlQueryEndpoint>();
  const lookups = new WeakMap<object, Lookup>();

  const query = async (c: Context<AppEnv>, args: Record<string, unknown>) => {
    const b = ofKind(c.get('bound'), 'SQL_QUERY');
    let endpoint = queries.get(b.endpoint);
    if (!endpoint) queries.set(b.endpoint, (endpoint = new SqlQueryEndpoint(b.endpoint)));
    const answer = await endpoint.run(connection(deps, b.endpoint.connection), args);
    return reply(c, b, answer);
  };
  const lookup = async (c: Context<AppEnv>, items: Record<string, unknown>[]) => {
    const b = ofKind(c.get('bound'), 'DATASETS_LOOKUP');
    let endpoint = lookups.get(b.endpoint);
    if (!endpoint) lookups.set(b.endpoint, (endpoint = new Lookup(b.endpoint)));
    c.set('records', items.length);
    return reply(c, b, { results: await endpoint.run(connection(deps, b.endpoint.connection), items) });
  };

  // Admission and dispatch first, as for every endpoint kind; these bodies carry no dispatch.
  app.use('/:serviceId/:endpointId/:action{query|lookup|lookup-multi|lookup-simple}', admitAndBind(deps));
  app.post('/:serviceId/:endpointId/query', async (c) => query(c, await readJson(c, Args, deps.config.maxBodyBytes)));
  app.get('/:serviceId/:endpointId/query', (c) => query(c, c.req.query()));
  app.post('/:serviceId/:endpointId/lookup', async (c) => lookup(c, [(await readJson(c, LookupRequest, deps.config.maxBodyBytes)).data]));
  app.post('/:serviceId/:endpointId/lookup-multi', async (c) => lookup(c, (await readJson(c, LookupMultiRequest, deps.config.maxBodyBytes)).items.map((i) => i.data)));
  app.get('/:serviceId/:endpointId/lookup-simple', (c) => lookup(c, [c.req.query()]));
  return app;
}

export function connection(deps: Deps, name: string): SqlClient {
  const client = deps.sql(name);
  if (!client) throw ApiError.unavailable('SQL_NOT_CONFIGURED', `No database connection named "${name}" is configured on this node`, `set APINODE_SQL_${name.toUpperCase()}`);
  return client;
}

function reply(c: Context<AppEnv>, b: Bound, body: object): Response {
  return c.json({ ...body, apiContext: apiContext(b) });
}
