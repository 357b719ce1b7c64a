import { Manifest } from '@apinode/protocol';
import { LRUCache } from 'lru-cache';
import { ApiError } from '../errors.js';
import { ResourceCache } from '../inference/resource-cache.js';
import type { Compiled, KindServices } from '../kinds/kind.js';
import { kindOf } from '../kinds/registry.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { LoadedGeneration } from './loaded-generation.js';
import { SingleFlight } from './single-flight.js';

export { LoadedGeneration } from './loaded-generation.js';
/** A committed generation of a service, as the request path and the admin API see it. */
export type Generation = LoadedGeneration;

export interface GenerationsOptions {
  modelCacheBytes: number;
  manifestCacheEntries: number;
}

/**
 * Committed generations of every service, loaded on demand. Manifests are immutable once
 * committed, so they are cached without revalidation (an LRU by count); loaded endpoints live
 * in one LRU bounded by bytes, and a generation that leaves the manifest cache unloads its
 * own. Concurrent first requests share one load; failures are not cached.
 */
export class Generations {
  private readonly manifests: LRUCache<string, LoadedGeneration>;
  private readonly pending = new SingleFlight<LoadedGeneration | null>();
  /** Loaded endpoints of every generation (model sessions, code, compiled SQL), bounded by bytes. */
  readonly models: ResourceCache<Compiled>;

  constructor(
    private readonly store: ObjectStore,
    private readonly services: KindServices,
    opts: GenerationsOptions,
  ) {
    this.models = new ResourceCache<Compiled>(opts.modelCacheBytes, (c) => c.dispose());
    this.manifests = new LRUCache<string, LoadedGeneration>({ max: opts.manifestCacheEntries, dispose: (g) => g.unload() });
  }

  /** The generation if it is committed (its manifest.json exists), else null. */
  async get(serviceId: string, gen: string): Promise<LoadedGeneration | null> {
    const key = `${serviceId}/${gen}`;
    return this.manifests.get(key) ?? this.pending.run(key, () => this.read(serviceId, gen));
  }

  /**
   * Loads a committed generation and the endpoints of every kind that preloads (the models)
   * now (Lambda init, admin preload), so the first request does not pay for it. Throws 404
   * when the generation is not committed.
   */
  async preload(serviceId: string, gen: string): Promise<LoadedGeneration> {
    const generation = await this.get(serviceId, gen);
    if (!generation) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${gen}" of service "${serviceId}" is not committed`);
    for (const spec of generation.endpoints.values()) {
      if (kindOf(spec.type).preload) (await generation.acquire(spec.id)).release();
    }
    return generation;
  }

  /** Drops what this instance holds of a service (after it was deleted). */
  forget(serviceId: string): void {
    for (const key of [...this.manifests.keys()]) if (key.startsWith(`${serviceId}/`)) this.manifests.delete(key);
    this.models.evictPrefix(`${serviceId}/`);
  }

  /**
   * Drops everything this instance holds (admin DELETE model-cache): every loaded endpoint and
   * every cached manifest. An endpoint still leased by a running request is disposed when that
   * request releases it, so nothing is freed under a request's feet.
   */
  clear(): { models: number; bytes: number; generations: number } {
    const dropped = { models: this.models.size, bytes: this.models.bytes, generations: this.manifests.size };
    this.manifests.clear();
    this.models.evictPrefix('');
    return dropped;
  }

  private async read(serviceId: string, gen: string): Promise<LoadedGeneration | null> {
    const obj = await this.store.get(layout.manifest(serviceId, gen));
    if (!obj) return null;
    const manifest = parseStoredJson(obj.body, Manifest, `The manifest of generation "${gen}"`, 'GENERATION_BROKEN');
    if (manifest.generation !== gen) {
      throw new ApiError(500, 'GENERATION_BROKEN', `The manifest in folder "${gen}" says it is generation "${manifest.generation}"`);
    }
    const generation = new LoadedGeneration(serviceId, gen, manifest, this.store, this.models, this.services);
    this.manifests.set(`${serviceId}/${gen}`, generation);
    return generation;
  }
}
