import { ServiceConfig, type Mapping } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { updateJson } from '../storage/update.js';
import { mappedGenerations } from '../services/dispatch.js';
import { sameMapping } from './plan.js';

/** A service's mapping, read fresh and written back only If-Match (storage/update.ts), as ServiceAdmin does. */
export class ServiceMappings {
  constructor(
    private readonly store: ObjectStore,
    /** Drops this instance's cached service.json (the registry): the change serves here at once. */
    private readonly invalidate: (serviceId: string) => void,
  ) {}

  async get(serviceId: string): Promise<Mapping | null> {
    return parse(serviceId, await this.store.get(layout.service(serviceId))).mapping ?? null;
  }

  /** Writes the mapping unless service.json already has it; leaves `enabled` alone (a disabled service stays disabled). */
  async set(serviceId: string, mapping: Mapping): Promise<boolean> {
    const current = await this.get(serviceId);
    // Checked before writing: a check that finds nothing to do (every scheduled tick) costs a GET, not a PUT.
    if (current && sameMapping(current, mapping)) return false;
    let changed = false;
    await updateJson(this.store, layout.service(serviceId), (obj) => parse(serviceId, obj), async (c) => {
      changed = !c.mapping || !sameMapping(c.mapping, mapping);
      if (changed) await this.assertMappable(serviceId, c, mappedGenerations(mapping));
      return changed ? { ...c, mapping } : c;
    });
    if (changed) this.invalidate(serviceId);
    return changed;
  }

  /**
   * As ServiceAdmin.setMapping: 409 GENERATION_NOT_COMMITTED for a generation without its
   * manifest or that a clean-up is deleting (service.json's cleanup marker). Checked on the copy
   * the update read, which is written back only if unchanged: a clean-up marks service.json
   * before it deletes a manifest, so it cannot slip between this check and the write.
   */
  private async assertMappable(serviceId: string, c: ServiceConfig, generations: readonly string[]): Promise<void> {
    const deleting = new Set(c.cleanup?.generations ?? []);
    const missing: string[] = [];
    for (const g of new Set(generations)) if (deleting.has(g) || !(await this.store.get(layout.manifest(serviceId, g)))) missing.push(g);
    if (missing.length) {
      throw new ApiError(409, 'GENERATION_NOT_COMMITTED', `The mapping names generations that are not committed: ${missing.join(', ')}`, `${missing.filter((g) => deleting.has(g)).length ? 'being deleted by a clean-up' : 'no manifest'}: ${missing.join(', ')}`);
    }
  }
}

/** service.json; absent or being deleted (cleanup.service, ServiceAdmin.delete and the clean-up): 404. */
function parse(serviceId: string, obj: StoredObject | null): ServiceConfig {
  if (!obj) throw notFound(serviceId);
  const config = parseStoredJson(obj.body, ServiceConfig, `The configuration of service "${serviceId}"`, 'SERVICE_CONFIG_INVALID');
  if (config.cleanup?.service) throw notFound(serviceId);
  return config;
}

const notFound = (serviceId: string) => ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
