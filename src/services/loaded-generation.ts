import type { EndpointSpec, Manifest } from '@apinode/protocol';
import { ApiError, describe, isApiError } from '../errors.js';
import type { Compiled, GenerationFiles, KindServices } from '../kinds/kind.js';
import { kindOf } from '../kinds/registry.js';
import type { Lease, ResourceCache } from '../inference/resource-cache.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * A committed generation as this instance holds it: its manifest, and the way to its loaded
 * endpoints (model sessions, compiled SQL, checked code). Loaded endpoints live in the node's
 * byte-bounded cache under this generation's key; when the generation leaves the manifest
 * cache it unloads them (each is disposed once no request holds it). Generations are
 * immutable, so an endpoint loaded for one copy of a generation is right for any other.
 */
export class LoadedGeneration implements GenerationFiles {
  readonly endpoints: ReadonlyMap<string, EndpointSpec>;
  private readonly prefix: string;

  constructor(
    readonly serviceId: string,
    readonly id: string,
    readonly manifest: Manifest,
    private readonly store: ObjectStore,
    private readonly cache: ResourceCache<Compiled>,
    private readonly services: KindServices,
  ) {
    this.endpoints = new Map(manifest.endpoints.map((e) => [e.id, e]));
    this.prefix = `${serviceId}/${id}/`;
  }

  get generation(): string {
    return this.id;
  }

  async read(path: string): Promise<Uint8Array> {
    const obj = await this.store.get(layout.file(this.serviceId, this.id, path));
    if (!obj) throw new ApiError(500, 'GENERATION_BROKEN', `Generation "${this.id}" lacks ${path}`, 'the generation was committed without one of its files');
    return obj.body;
  }

  /** A lease on the endpoint, loaded on first use (concurrent first uses share one load; a failed load is not kept). */
  acquire(endpointId: string): Promise<Lease<Compiled>> {
    const spec = this.endpoints.get(endpointId);
    if (!spec) return Promise.reject(ApiError.notFound('ENDPOINT_NOT_FOUND', `Endpoint "${endpointId}" does not exist in generation "${this.id}" of service "${this.serviceId}"`));
    return this.cache.acquire(this.prefix + endpointId, async () => {
      const value = await this.load(spec);
      return { value, bytes: value.bytes };
    });
  }

  isLoaded(endpointId: string): boolean {
    return this.cache.has(this.prefix + endpointId);
  }

  /** Lets go of every loaded endpoint of this generation. */
  unload(): void {
    this.cache.evictPrefix(this.prefix);
  }

  private async load(spec: EndpointSpec): Promise<Compiled> {
    try {
      return await kindOf(spec.type).load(spec, this, this.services);
    } catch (e) {
      if (isApiError(e)) throw e; // the runtime or a dependency is down, or a broken file: not this endpoint's fault
      throw new ApiError(500, 'MODEL_LOAD_FAILED', `The model of endpoint "${spec.id}" in generation "${this.id}" cannot be loaded`, describe(e).slice(0, 500));
    }
  }
}
