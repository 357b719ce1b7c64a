import { ServiceConfig } from '@apinode/protocol';
import { ApiError, describe } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { layout } from '../storage/layout.js';
import { NOT_MODIFIED, type ObjectStore } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { LRUCache } from 'lru-cache';

interface Entry {
  config: ServiceConfig | null;
  etag: string | undefined;
  /** When the store last answered for this service; undefined until it first has. */
  checkedAt: number | undefined;
  pending: Promise<ServiceConfig | null> | undefined;
  /** When the pending read started. */
  pendingSince: number;
}

export interface ServiceRegistryOptions {
  ttlMs: number;
  now: () => number;
  log: Logger;
  maxEntries?: number;
  /**
   * Workers: a promise settled by one request's I/O resumes whoever awaits it in that request's
   * context, where their own request's body can no longer be read ("Cannot perform I/O on behalf
   * of a different request"). Then a request never waits for a read another request started:
   * it serves the copy being revalidated (a read younger than the TTL is in flight), or reads
   * service.json itself. @default false: concurrent requests share one read
   */
  requestBoundIo?: boolean;
}

/**
 * service.json per service, cached per instance: re-read at most every TTL with a conditional
 * read (ETag), and when the store fails or holds a bad copy the last good copy keeps serving
 * (stale-if-error). A bad copy with nothing cached is 503 SERVICE_CONFIG_INVALID: the store,
 * not the caller, is at fault, and a write or a replica catching up fixes it.
 * Unknown services are cached as null for a TTL too, so a flood of 404s does not reach the store.
 */
export class ServiceRegistry {
  private readonly entries: LRUCache<string, Entry>;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: ServiceRegistryOptions,
  ) {
    this.entries = new LRUCache<string, Entry>({ max: opts.maxEntries ?? 10_000 });
  }

  async get(serviceId: string): Promise<ServiceConfig | null> {
    const entry = this.entries.get(serviceId);
    const now = this.opts.now();
    if (entry?.pending) {
      if (!this.opts.requestBoundIo) return entry.pending;
      if (entry.checkedAt !== undefined && now - entry.pendingSince < this.opts.ttlMs) return entry.config;
    } else if (entry?.checkedAt !== undefined && now - entry.checkedAt < this.opts.ttlMs) return entry.config;
    const base: Entry = entry ?? { config: null, etag: undefined, checkedAt: undefined, pending: undefined, pendingSince: 0 };
    const pending = this.refresh(serviceId, base).finally(() => {
      if (base.pending === pending) base.pending = undefined;
    });
    base.pending = pending;
    base.pendingSince = now;
    this.entries.set(serviceId, base);
    return pending;
  }

  /** Forget a cached copy (after an admin change on this instance). */
  invalidate(serviceId: string): void {
    this.entries.delete(serviceId);
  }

  private async refresh(serviceId: string, entry: Entry): Promise<ServiceConfig | null> {
    const key = layout.service(serviceId);
    try {
      const got = entry.etag ? await this.store.getIfChanged(key, entry.etag) : await this.store.get(key);
      if (got === NOT_MODIFIED) {
        entry.checkedAt = this.opts.now();
        return entry.config;
      }
      entry.config = got ? parseServiceConfig(serviceId, got.body) : null;
      entry.etag = got?.etag;
      entry.checkedAt = this.opts.now();
      return entry.config;
    } catch (e) {
      if (entry.config) {
        // Stale-if-error: keep serving the last good copy, retry after another TTL.
        this.opts.log.warn('service config refresh failed; serving the cached copy', { serviceId, error: describe(e) });
        entry.checkedAt = this.opts.now();
        return entry.config;
      }
      this.entries.delete(serviceId);
      throw e;
    }
  }
}

function parseServiceConfig(serviceId: string, body: Uint8Array): ServiceConfig {
  const what = `The configuration of service "${serviceId}"`;
  const config = parseStoredJson(body, ServiceConfig, what, 'SERVICE_CONFIG_INVALID');
  if (config.serviceId !== serviceId) throw new ApiError(503, 'SERVICE_CONFIG_INVALID', `${what} is invalid`, `serviceId is "${config.serviceId}"`);
  return config;
}
