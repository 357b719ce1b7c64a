import { ExplanationBackground, Manifest, isPredictionEndpoint, type EndpointSpec, type PredictionEndpointSpec } from '@apinode/protocol';
import { ApiError, describe, isApiError } from '../errors.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { PredictionModel } from '../inference/prediction-model.js';
import { ResourceCache, type Lease } from '../inference/resource-cache.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { LruMap } from './lru-map.js';
import { SingleFlight } from './single-flight.js';
import { leaseCausalModel } from '../endpoints/causal-model.js';
import { leaseForecastModel } from '../endpoints/forecast-model.js';

/** A committed generation's manifest, indexed for the request path. */
export interface Generation {
  readonly serviceId: string;
  readonly id: string;
  readonly manifest: Manifest;
  readonly endpoints: ReadonlyMap<string, EndpointSpec>;
}

/** What the model cache holds: a loaded model of any endpoint kind. */
export interface LoadedModel {
  readonly bytes: number;
  release(): void;
}

export interface GenerationsOptions {
  modelCacheBytes: number;
  manifestCacheEntries: number;
}

/**
 * Committed generations of every service, loaded on demand. Manifests are immutable once
 * committed, so they are cached without revalidation; models live in a byte-bounded LRU of
 * sessions. Concurrent first requests share one load; failures are not cached.
 */
export class Generations {
  private readonly manifests: LruMap<string, Generation>;
  private readonly pending = new SingleFlight<Generation | null>();
  readonly models: ResourceCache<LoadedModel>;

  constructor(
    private readonly store: ObjectStore,
    private readonly runtime: ModelRuntime,
    opts: GenerationsOptions,
  ) {
    this.manifests = new LruMap(opts.manifestCacheEntries);
    this.models = new ResourceCache<LoadedModel>(opts.modelCacheBytes, (m) => m.release());
  }

  /** The generation if it is committed (its manifest.json exists), else null. */
  async get(serviceId: string, gen: string): Promise<Generation | null> {
    const key = `${serviceId}/${gen}`;
    const cached = this.manifests.get(key);
    if (cached) return cached;
    return this.pending.run(key, () => this.read(serviceId, gen));
  }

  /** A lease on the endpoint's loaded model: release it when the request is done. */
  model(gen: Generation, spec: PredictionEndpointSpec): Promise<Lease<PredictionModel>> {
    const bgFile = spec.explanations?.background;
    return this.lease(gen, spec, bgFile, async (onnx, runtime, bg) => {
      const background = bg ? parseStoredJson(bg, ExplanationBackground, `The explanation background ${bgFile} of generation "${gen.id}"`, 'GENERATION_BROKEN') : undefined;
      return PredictionModel.load(spec, onnx, runtime, background);
    });
  }

  /**
   * A lease on the loaded model of any ONNX-backed endpoint, built by `build` from the model
   * file (and `extraFile`, e.g. an explanation background) on first use.
   */
  lease<M extends LoadedModel>(
    gen: Generation,
    spec: { readonly id: string; readonly model: { readonly file: string } },
    extraFile: string | undefined,
    build: (onnx: Uint8Array, runtime: ModelRuntime, extra: Uint8Array | undefined) => Promise<M>,
  ): Promise<Lease<M>> {
    return this.models.acquire(`${gen.serviceId}/${gen.id}/${spec.id}`, async () => {
      const [file, extra] = await Promise.all([
        this.store.get(layout.file(gen.serviceId, gen.id, spec.model.file)),
        extraFile ? this.store.get(layout.file(gen.serviceId, gen.id, extraFile)) : null,
      ]);
      const lacks = (path: string) => new ApiError(500, 'GENERATION_BROKEN', `Generation "${gen.id}" lacks ${path}`, 'the generation was committed without one of its files');
      if (!file) throw lacks(spec.model.file);
      if (extraFile && !extra) throw lacks(extraFile);
      try {
        const model = await build(file.body, this.runtime, extra?.body);
        return { value: model, bytes: model.bytes + (extra?.body.byteLength ?? 0) };
      } catch (e) {
        if (isApiError(e)) throw e; // the runtime itself is down (503 MODEL_RUNTIME_UNAVAILABLE on Workers), or a broken extra file: not this model's fault
        throw new ApiError(500, 'MODEL_LOAD_FAILED', `The model of endpoint "${spec.id}" in generation "${gen.id}" cannot be loaded`, describe(e).slice(0, 500));
      }
    }) as Promise<Lease<M>>;
  }

  /** A file of a committed generation (e.g. code): 500 GENERATION_BROKEN when it is missing. */
  async file(gen: Generation, path: string): Promise<Uint8Array> {
    const obj = await this.store.get(layout.file(gen.serviceId, gen.id, path));
    if (!obj) throw new ApiError(500, 'GENERATION_BROKEN', `Generation "${gen.id}" lacks ${path}`, 'the generation was committed without one of its files');
    return obj.body;
  }

  /** Drops what this instance holds of a service (after it was deleted). */
  forget(serviceId: string): void {
    this.models.evictPrefix(`${serviceId}/`);
    this.manifests.deleteWhere((key) => key.startsWith(`${serviceId}/`));
  }

  /**
   * Loads a committed generation and every endpoint's model now (Lambda init, admin preload),
   * so the first request does not pay for it. Throws 404 when the generation is not committed.
   */
  async preload(serviceId: string, gen: string): Promise<Generation> {
    const generation = await this.get(serviceId, gen);
    if (!generation) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${gen}" of service "${serviceId}" is not committed`);
    for (const spec of generation.endpoints.values()) {
      if (isPredictionEndpoint(spec)) (await this.model(generation, spec)).release();
      else if (spec.type === 'STD_FORECAST') (await leaseForecastModel(this, generation, spec)).release();
      else if (spec.type === 'STD_CAUSAL_PREDICTION') (await leaseCausalModel(this, generation, spec)).release();
    }
    return generation;
  }

  private async read(serviceId: string, gen: string): Promise<Generation | null> {
    const obj = await this.store.get(layout.manifest(serviceId, gen));
    if (!obj) return null;
    const generation = parseGeneration(serviceId, gen, obj.body);
    this.manifests.set(`${serviceId}/${gen}`, generation);
    return generation;
  }
}

export function parseGeneration(serviceId: string, gen: string, body: Uint8Array): Generation {
  const manifest = parseStoredJson(body, Manifest, `The manifest of generation "${gen}"`, 'GENERATION_BROKEN');
  if (manifest.generation !== gen) {
    throw new ApiError(500, 'GENERATION_BROKEN', `The manifest in folder "${gen}" says it is generation "${manifest.generation}"`);
  }
  return { serviceId, id: gen, manifest, endpoints: new Map(manifest.endpoints.map((e) => [e.id, e])) };
}
