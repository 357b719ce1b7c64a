import { Hono, type Context } from 'hono';
import { Id, type ServiceConfig } from '@apinode/protocol';
import { SELF_CALL_HEADER } from '../code/self-client.js';
import { ApiError } from '../errors.js';
import type { Action, CallContext, Input } from '../kinds/kind.js';
import { ALL_ACTIONS, actionOf } from '../kinds/registry.js';
import { chooseGeneration, type DispatchRequest } from '../services/dispatch.js';
import type { Deps } from '../services/deps.js';
import { authenticate, type Caller } from './auth.js';
import type { AppEnv } from './env.js';
import { readJson, since } from './http.js';

/** An authorized caller of a serving service, before the body is read. */
interface Admitted {
  readonly service: ServiceConfig;
  readonly endpointId: string;
  readonly caller: Caller;
}

/**
 * Every user-API action of every endpoint kind, through ONE request path: admission, dispatch,
 * the endpoint's lease, the X-Apinode-Generation header, timing, metrics and the query log are
 * here; the endpoint's kind (src/kinds/) only runs the action.
 */
export function endpointRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const route of ALL_ACTIONS) app.on(route.method, `/:serviceId/:endpointId/${route.name}`, (c) => serve(deps, c, route));
  return app;
}

async function serve(deps: Deps, c: Context<AppEnv>, route: (typeof ALL_ACTIONS)[number]): Promise<Response> {
  const admitted = await admit(deps, c);
  // An action whose input carries the dispatch (predict bodies) is read first; the others are
  // bound first, so a call to a missing endpoint is a 404 whatever its body.
  const early = route.dispatch ? await read(deps, c, route.input) : undefined;
  const generation = await bind(deps, admitted, early === undefined ? null : route.dispatch?.(early));
  c.header('X-Apinode-Generation', generation.id);
  c.set('generation', generation.id);
  const spec = generation.endpoints.get(admitted.endpointId);
  if (!spec) throw ApiError.notFound('ENDPOINT_NOT_FOUND', `Endpoint "${admitted.endpointId}" does not exist in generation "${generation.id}" of service "${admitted.service.serviceId}"`);
  const action: Action = actionOf(spec, route.method, route.name);
  const input = early ?? (await read(deps, c, action.input));

  const preProcessing = since(c.get('startedAt'));
  const waitFrom = performance.now();
  const lease = await generation.acquire(spec.id);
  const wait = since(waitFrom);
  try {
    const call: CallContext = {
      requestId: c.get('requestId'),
      serviceId: admitted.service.serviceId,
      endpointId: spec.id,
      generation: generation.id,
      authorization: c.req.header('authorization'),
      selfCall: c.req.header(SELF_CALL_HEADER),
      preProcessing,
      wait,
    };
    const outcome = await action.run(lease.value, input, call);
    c.set('records', outcome.records ?? 0);
    if (deps.queryLog && outcome.log?.length) {
      const time = new Date().toISOString();
      const where = { time, requestId: call.requestId, serviceId: call.serviceId, endpointId: call.endpointId, generation: call.generation, caller: admitted.caller };
      deps.queryLog.write(outcome.log.map((r) => ({ ...where, features: r.features, context: r.context ?? null, result: r.result, timing: outcome.timing ?? {} })));
    }
    return c.json({ ...outcome.body, apiContext: { serviceId: call.serviceId, endpointId: call.endpointId, serviceGeneration: call.generation } });
  } finally {
    lease.release();
  }
}

/** The service exists, the caller may use it, it is serving. Runs before the body is read, so an anonymous caller learns nothing from a 400. */
async function admit(deps: Deps, c: Context<AppEnv>): Promise<Admitted> {
  const serviceId = c.req.param('serviceId') ?? '';
  const endpointId = c.req.param('endpointId') ?? '';
  const service = Id.safeParse(serviceId).success ? await deps.registry.get(serviceId) : null;
  if (!service) throw ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
  const caller = await authenticate(service, c.req.header('authorization'));
  if (!service.enabled) throw new ApiError(503, 'SERVICE_DISABLED', `Service "${serviceId}" is disabled`);
  if (!service.mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${serviceId}" has no generation mapping yet`);
  return { service, endpointId, caller };
}

/** Dispatch to a committed generation of the mapping. */
async function bind(deps: Deps, a: Admitted, dispatch: DispatchRequest | null | undefined) {
  const mapping = a.service.mapping;
  if (!mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${a.service.serviceId}" has no generation mapping yet`);
  const genId = chooseGeneration(mapping, dispatch, deps.random);
  const generation = await deps.generations.get(a.service.serviceId, genId);
  if (!generation) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${genId}" of service "${a.service.serviceId}" is not committed`);
  return generation;
}

/** The action's input: its JSON body (whatever the Content-Type), or its query parameters. */
function read(deps: Deps, c: Context<AppEnv>, input: Input<unknown>): Promise<unknown> | unknown {
  return 'body' in input ? readJson(c, input.body, deps.config.maxBodyBytes) : input.query(c.req.query());
}
