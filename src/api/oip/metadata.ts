import type { Context } from 'hono';
import { OIP_EXTENSIONS, OIP_SERVER_NAME, OIP_SERVER_VERSION, type Mapping, type OipModelMetadata, type OipModelReady, type OipServerMetadata } from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import type { Deps } from '../../services/deps.js';
import { mappedGenerations } from '../../services/dispatch.js';
import type { Generation } from '../../services/generations.js';
import { admit, bind, identify } from '../endpoint-routes.js';
import type { AppEnv } from '../env.js';
import { inputsOf, oipSpec, outputMetadata, platformOf, type OipSpec } from './model.js';

/** GET …/v2: the service exists and the caller may use it; serving or not. */
export async function serverMetadata(deps: Deps, c: Context<AppEnv>): Promise<Response> {
  await identify(deps, c);
  return c.json({ name: OIP_SERVER_NAME, version: OIP_SERVER_VERSION, extensions: [...OIP_EXTENSIONS] } satisfies OipServerMetadata);
}

/** GET …/v2/health/ready: the service is enabled and mapped, and every generation it sends traffic to is in the store (a 503 otherwise). */
export async function serverReady(deps: Deps, c: Context<AppEnv>): Promise<Response> {
  const admitted = await admit(deps, c);
  const { serviceId, mapping } = admitted.service;
  const live = mapping!.mode === 'SINGLE_GENERATION' ? [mapping!.generation] : mapping!.entries.filter((e) => e.proba > 0).map((e) => e.generation);
  for (const gen of live) {
    if (!(await deps.generations.get(serviceId, gen))) throw ApiError.unavailable('GENERATION_MISSING', `Generation "${gen}" of service "${serviceId}" is mapped but not in the store`);
  }
  return c.json({ ready: true });
}

/** The endpoint as one generation describes it, and every generation of the mapping that holds it. */
interface Described {
  readonly spec: OipSpec;
  readonly generation: Generation;
  readonly holding: readonly Generation[];
}

/**
 * With versions/{generation}: that generation (404 unless mapped and holding the endpoint).
 * Without: the generation of the mapping with the largest share that holds it, so that metadata
 * does not change from one call to the next as dispatch does.
 */
async function resolveModel(deps: Deps, c: Context<AppEnv>): Promise<Described> {
  const admitted = await admit(deps, c);
  const { serviceId, mapping } = admitted.service;
  const endpointId = admitted.endpointId;
  const mapped = await Promise.all(mappedGenerations(mapping!).map((gen) => deps.generations.get(serviceId, gen)));
  const holding = mapped.filter((g): g is Generation => g !== null && g.endpoints.has(endpointId));
  const version = c.req.param('generation');
  const generation = version !== undefined ? await bind(deps, admitted, { forcedGeneration: version }) : largestShare(holding, mapping!);
  const spec = generation?.endpoints.get(endpointId);
  if (!generation || !spec) {
    const where = generation ? `generation "${generation.id}"` : 'any mapped generation';
    throw ApiError.notFound('ENDPOINT_NOT_FOUND', `Endpoint "${endpointId}" does not exist in ${where} of service "${serviceId}"`);
  }
  c.header('X-Apinode-Generation', generation.id);
  c.set('generation', generation.id);
  return { spec: oipSpec(spec, serviceId), generation, holding };
}

function largestShare(holding: readonly Generation[], mapping: Mapping): Generation | undefined {
  const share = (g: Generation) => (mapping.mode === 'SINGLE_GENERATION' ? 1 : (mapping.entries.find((e) => e.generation === g.id)?.proba ?? 0));
  return holding.reduce<Generation | undefined>((best, g) => (best === undefined || share(g) > share(best) ? g : best), undefined);
}

/** GET …/v2/models/{endpointId}[/versions/{generation}] */
export async function modelMetadata(deps: Deps, c: Context<AppEnv>): Promise<Response> {
  const { spec, holding } = await resolveModel(deps, c);
  const body: OipModelMetadata = { name: spec.id, versions: holding.map((g) => g.id), platform: platformOf(spec), inputs: inputsOf(spec), outputs: outputMetadata(spec) };
  return c.json(body);
}

/**
 * GET …/ready: the endpoint loads (its model session, its code) in the generation named, or in
 * every mapped generation that holds it; a failure answers its own error status.
 */
export async function modelReady(deps: Deps, c: Context<AppEnv>): Promise<Response> {
  const { spec, generation, holding } = await resolveModel(deps, c);
  const targets = c.req.param('generation') !== undefined ? [generation] : holding;
  for (const g of targets) (await g.acquire(spec.id)).release();
  return c.json({ name: spec.id, ready: true } satisfies OipModelReady);
}
