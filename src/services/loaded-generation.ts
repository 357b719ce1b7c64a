import type { EndpointSpec, Manifest } from '@apinode/protocol';
import { ApiError, isApiError } from '../errors.js';
import type { Compiled, GenerationFiles, KindServices } from '../kinds/kind.js';
import { kindOf } from '../kinds/registry.js';
import type { Lease, ResourceCache } from '../inference/resource-cache.js';
import { sha256Hex } from '../storage/content-hash.js';
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

  /**
   * A file of the generation, checked against the SHA-256 its manifest recorded at import
   * (generations committed before `files` existed are not checked). A mismatch means the
   * bucket no longer holds what was imported: 503 GENERATION_CORRUPT, logged at level error.
   */
  async read(path: string): Promise<Uint8Array> {
    const obj = await this.store.get(layout.file(this.serviceId, this.id, path));
    if (!obj) throw new ApiError(500, 'GENERATION_BROKEN', `Generation "${this.id}" lacks ${path}`, 'the generation was committed without one of its files');
    const expected = this.manifest.files?.[path];
    if (this.manifest.files) {
      const actual = await sha256Hex(obj.body);
      if (actual !== expected) {
        this.services.log.error('generation file does not match its manifest', { serviceId: this.serviceId, generation: this.id, path, expected: expected ?? null, actual });
        throw ApiError.unavailable(
          'GENERATION_CORRUPT',
          `Generation "${this.id}" of service "${this.serviceId}" cannot be served: ${path} is not the file that was imported`,
          `${path}: ${expected ? 'its SHA-256 differs from the one' : 'it is not among the files'} manifest.json recorded at import; restore the file (bucket versioning) or import the generation again under a new id`,
        );
      }
    }
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
      // The runtime's own words (onnxruntime's) are logged with the request id, never answered.
      throw new ApiError(500, 'MODEL_LOAD_FAILED', `The model of endpoint "${spec.id}" in generation "${this.id}" cannot be loaded`, 'the model does not load in this node\'s model runtime (the cause is logged under the request id); validate the generation with apinode-admin generation validate', { cause: e });
    }
  }
}
