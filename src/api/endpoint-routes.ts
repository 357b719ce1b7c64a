import { Hono, type Context } from 'hono';
import { Id, type EndpointSpec, type ServiceConfig } from '@apinode/protocol';
import { SELF_CALL_HEADER } from '../code/self-client.js';
import { ApiError, type ErrorStatus } from '../errors.js';
import type { Action, CallContext, Input, Outcome } from '../kinds/kind.js';
import { ALL_ACTIONS, actionOf } from '../kinds/registry.js';
import { chooseGeneration, type DispatchRequest } from '../services/dispatch.js';
import { ModelError, ModelRuntimeError } from '../inference/model-runtime.js';
import { errorLine, okLines, type LoggedRequest } from '../observability/query-log-lines.js';
import type { Deps } from '../services/deps.js';
import { authenticate, type Caller } from './auth.js';
import type { AppEnv } from './env.js';
import { MAX_JSON_DEPTH, nestsDeeperThan, readJson, since } from './http.js';

/** An authorized caller of a serving service, before the body is read. */
export interface Admitted {
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
  const { outcome, call } = await invoke(deps, c, admitted, {
    dispatch: early === undefined ? null : route.dispatch?.(early),
    action: (spec) => actionOf(spec, route.method, route.name),
    input: (action) => early ?? read(deps, c, action.input),
  });
  return c.json({ ...outcome.body, apiContext: { serviceId: call.serviceId, endpointId: call.endpointId, serviceGeneration: call.generation } });
}

/** What a front door (the DSS routes, OIP) asks of the request path, once the caller is admitted. */
export interface Invocation {
  /** Which generation answers: a forced one, a dispatch key, or a draw from the mapping. */
  readonly dispatch: DispatchRequest | null | undefined;
  /** The action of the endpoint's kind to run; throws (400) when the kind has none. */
  action(spec: EndpointSpec): Action;
  /** The action's input, read or built once the endpoint is known. */
  input(action: Action, spec: EndpointSpec): Promise<unknown> | unknown;
}

export interface Invoked {
  readonly outcome: Outcome;
  readonly call: CallContext;
}

/**
 * The request path every front door shares: dispatch, the X-Apinode-Generation header, the
 * endpoint's lease, timing, metrics (c.var.generation, c.var.records) and the query log. The
 * front door renders the outcome in its own protocol.
 */
export async function invoke(deps: Deps, c: Context<AppEnv>, admitted: Admitted, how: Invocation): Promise<Invoked> {
  const known: Known = {};
  try {
    return await invokeOnce(deps, c, admitted, how, known);
  } catch (e) {
    // One 'error' line once the endpoint and generation are known: error rates per generation.
    if (deps.queryLog && known.request) deps.queryLog.write([errorLine(known.request, e, known.timing)]);
    throw e;
  }
}

/** What the query log knows of a request so far. */
interface Known {
  request?: LoggedRequest;
  timing?: object;
}

/** The action's name in the query log: OIP's infer runs predict-multi but is logged as itself. */
const loggedAction = (c: Context<AppEnv>, action: Action | undefined) =>
  c.req.path.startsWith('/oip/') ? 'oip-infer' : (action?.name ?? c.req.path.split('/').filter(Boolean).pop() ?? '');

async function invokeOnce(deps: Deps, c: Context<AppEnv>, admitted: Admitted, how: Invocation, known: Known): Promise<Invoked> {
  const generation = await bind(deps, admitted, how.dispatch);
  c.header('X-Apinode-Generation', generation.id);
  c.set('generation', generation.id);
  const spec = generation.endpoints.get(admitted.endpointId);
  if (!spec) throw ApiError.notFound('ENDPOINT_NOT_FOUND', `Endpoint "${admitted.endpointId}" does not exist in generation "${generation.id}" of service "${admitted.service.serviceId}"`);
  const arrivedAt = Date.now() - (performance.now() - c.get('startedAt'));
  known.request = { arrivedAt, requestId: c.get('requestId'), serviceId: admitted.service.serviceId, endpointId: spec.id, generation: generation.id, action: loggedAction(c, undefined), caller: admitted.caller };
  const action: Action = how.action(spec);
  known.request = { ...known.request, action: loggedAction(c, action) };
  const input = await how.input(action, spec);
  capBatch(input, deps.config.maxBatchRecords);

  const preProcessing = since(c.get('startedAt'));
  const waitFrom = performance.now();
  const lease = await generation.acquire(spec.id);
  const wait = since(waitFrom);
  known.timing = { preProcessing, wait };
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
    const outcome = await action.run(lease.value, input, call).catch(modelFault);
    c.set('records', outcome.records ?? 0);
    const lines = deps.queryLog && outcome.log ? outcome.log() : [];
    if (deps.queryLog && lines.length) deps.queryLog.write(okLines(known.request, lines, outcome.timing, deps.config.queryLogMaxFieldBytes));
    return { outcome, call };
  } finally {
    lease.release();
  }
}

/** What each kind of model runtime failure answers: status, message, what to do. */
const RUNTIME_FAULTS: Record<ModelRuntimeError['kind'], readonly [ErrorStatus, string, string]> = {
  resources: [503, 'The model runtime could not allocate what this request needs', 'retry, or send fewer records per request'],
  graph: [500, 'The model failed on this input in the model runtime', 'the model cannot score this input'],
  time: [503, 'The model runtime did not score this request in the time this node allows', 'retry shortly, or send fewer records per request (APINODE_MODEL_RUN_MAX_MS)'],
};

/** A model that failed while serving is a typed 500 (503: out of memory); its runtime's own words are logged (cause), never answered. */
function modelFault(e: unknown): never {
  if (!(e instanceof ModelError)) throw e;
  if (e instanceof ModelRuntimeError) {
    const [status, message, detail] = RUNTIME_FAULTS[e.kind];
    throw new ApiError(status, 'MODEL_RUNTIME_ERROR', message, `${detail}; the session is reloaded before its next run (the cause is logged under the request id)`, { cause: e.cause ?? e });
  }
  throw new ApiError(500, 'MODEL_RUN_FAILED', 'The model failed while scoring this request', 'the model runtime failed, or the model answered what its manifest does not describe (the cause is logged under the request id)', { cause: e.cause ?? e });
}

/**
 * A batch of more records than the node scores per request is a 400: predict-multi and
 * predict-effect-multi items, OIP infer rows, lookup-multi items. Forecast items are one history
 * (rows of time series), bounded by the body size only.
 */
function capBatch(input: unknown, max: number): void {
  const items = (input as { items?: unknown } | null)?.items;
  if (!Array.isArray(items) || items.length <= max) return;
  const first: unknown = items[0];
  if (!(first && typeof first === 'object' && ('features' in first || 'data' in first))) return;
  throw ApiError.badRequest('INVALID_REQUEST', `The request holds ${items.length} records; this node scores at most ${max} per request`, 'split the batch into several requests (the limit is APINODE_MAX_BATCH_RECORDS)');
}

/** The service exists, the caller may use it, it is serving. Runs before the body is read, so an anonymous caller learns nothing from a 400. */
export async function admit(deps: Deps, c: Context<AppEnv>): Promise<Admitted> {
  const { service, caller } = await identify(deps, c);
  const serviceId = service.serviceId;
  const endpointId = c.req.param('endpointId') ?? '';
  if (!service.enabled) throw new ApiError(503, 'SERVICE_DISABLED', `Service "${serviceId}" is disabled`);
  if (!service.mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${serviceId}" has no generation mapping yet`);
  return { service, endpointId, caller };
}

/** The service exists and the caller may use it, serving or not (what OIP's server metadata needs). */
export async function identify(deps: Deps, c: Context<AppEnv>): Promise<{ service: ServiceConfig; caller: Caller }> {
  const serviceId = c.req.param('serviceId') ?? '';
  const service = Id.safeParse(serviceId).success ? await deps.registry.get(serviceId) : null;
  if (!service) throw ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
  return { service, caller: await authenticate(service, c.req.header('authorization'), { allowHttpJwks: deps.config.oauth2AllowHttpJwks }) };
}

/** Dispatch to a committed generation of the mapping. */
export async function bind(deps: Deps, a: Admitted, dispatch: DispatchRequest | null | undefined) {
  const mapping = a.service.mapping;
  if (!mapping) throw new ApiError(503, 'SERVICE_NOT_MAPPED', `Service "${a.service.serviceId}" has no generation mapping yet`);
  const genId = chooseGeneration(mapping, dispatch, deps.random);
  const generation = await deps.generations.get(a.service.serviceId, genId);
  if (generation) return generation;
  // Forced by the caller: theirs to get right (404, DESIGN 4). Chosen by the mapping: the
  // deployment's fault (a mapping set by hand, or a replica with the new service.json first).
  if (dispatch?.forcedGeneration != null) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${genId}" of service "${a.service.serviceId}" is not committed`);
  throw ApiError.unavailable(
    'GENERATION_MISSING',
    `The mapping of service "${a.service.serviceId}" sends this request to generation "${genId}", which is not in the store`,
    'the mapping names a generation that is not committed (or not replicated here yet): retry, or map committed generations',
  );
}

/** The action's input: its JSON body (whatever the Content-Type), or its query parameters. */
function read(deps: Deps, c: Context<AppEnv>, input: Input<unknown>): Promise<unknown> | unknown {
  if ('body' in input) return readJson(c, input.body, deps.config.maxBodyBytes);
  const params = c.req.query();
  // Query values may be JSON (function arguments): the same depth limit as bodies.
  for (const [name, value] of Object.entries(params)) {
    if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw ApiError.badRequest('INVALID_REQUEST', `Query parameter "${name}" nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return input.query(params);
}
