import type { Context, MiddlewareHandler } from 'hono';
import { Id, type EndpointSpec, type ServiceConfig } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { chooseGeneration, type DispatchRequest } from '../services/dispatch.js';
import type { Generation } from '../services/generations.js';
import { authenticate, type Caller } from './auth.js';
import type { AppEnv, Deps } from './env.js';

/** An authorized caller of a service, before the body is read. */
export interface Admitted {
  readonly service: ServiceConfig;
  readonly endpointId: string;
  readonly caller: Caller;
}

/** A request bound to the generation and endpoint that will answer it. */
export interface Bound extends Admitted {
  readonly generation: Generation;
  readonly endpoint: EndpointSpec;
}

/**
 * Step 1 for every endpoint kind: the service exists, the caller may use it, it is serving.
 * Runs before the body is parsed, so an anonymous caller learns nothing from a 400.
 */
export async function admit(deps: Deps, c: Context<AppEnv>): Promise<Admitted> {
  const serviceId = c.req.param('serviceId') ?? '';
  const endpointId = c.req.param('endpointId') ?? '';
  const service = Id.safeParse(serviceId).success ? await deps.registry.get(serviceId) : null;
  if (!service) throw ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
  const caller = await authenticate(service, c.req.header('authorization'));
  if (!service.enabled) throw new ApiError(503, 'SERVICE_DISABLED', `Service "${serviceId}" is disabled`);
  if (!service.mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${serviceId}" has no generation mapping yet`);
  return { service, endpointId, caller };
}

/** Step 2: dispatch to a generation and find the endpoint in it. */
export async function bind(deps: Deps, a: Admitted, dispatch: DispatchRequest | null | undefined): Promise<Bound> {
  const mapping = a.service.mapping;
  if (!mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${a.service.serviceId}" has no generation mapping yet`);
  const genId = chooseGeneration(mapping, dispatch, deps.random);
  const generation = await deps.generations.get(a.service.serviceId, genId);
  if (!generation) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${genId}" of service "${a.service.serviceId}" is not committed`);
  const endpoint = generation.endpoints.get(a.endpointId);
  if (!endpoint) {
    throw ApiError.notFound('ENDPOINT_NOT_FOUND', `Endpoint "${a.endpointId}" does not exist in generation "${genId}" of service "${a.service.serviceId}"`);
  }
  return { ...a, generation, endpoint };
}

export const apiContext = (b: Bound) => ({
  serviceId: b.service.serviceId,
  endpointId: b.endpoint.id,
  serviceGeneration: b.generation.id,
});

const ACTIONS: Record<EndpointSpec['type'], string> = {
  STD_PREDICTION: 'predict, predict-multi or predict-simple',
  STD_CLUSTERING: 'predict, predict-multi or predict-simple',
  SQL_QUERY: 'query',
  DATASETS_LOOKUP: 'lookup, lookup-multi or lookup-simple',
  STD_FORECAST: 'forecast',
  STD_CAUSAL_PREDICTION: 'predict-effect or predict-effect-multi',
  FUNCTION: 'run',
  CUSTOM_PREDICTION: 'predict, predict-multi or predict-simple',
};

/** The bound endpoint if it is of one of these kinds; else 400 saying which action it takes. */
export function ofKind<K extends EndpointSpec['type']>(b: Bound, ...types: K[]): Bound & { endpoint: Extract<EndpointSpec, { type: K }> } {
  if (!(types as string[]).includes(b.endpoint.type)) {
    throw ApiError.badRequest('WRONG_ENDPOINT_TYPE', `Endpoint "${b.endpoint.id}" is a ${b.endpoint.type} endpoint: call ${ACTIONS[b.endpoint.type]}`);
  }
  return b as Bound & { endpoint: Extract<EndpointSpec, { type: K }> };
}

/**
 * Admission and dispatch as a middleware, for actions whose bodies carry no dispatch (run,
 * query, lookup): the bound request is then read with c.get('bound').
 */
export function admitAndBind(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const bound = await bind(deps, await admit(deps, c), null);
    c.set('bound', bound);
    c.set('generation', bound.generation.id);
    c.header('X-Apinode-Generation', bound.generation.id);
    await next();
  };
}
