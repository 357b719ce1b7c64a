import { ServiceConfig, type Mapping } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { updateJson } from '../storage/update.js';
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
    await updateJson(this.store, layout.service(serviceId), (obj) => parse(serviceId, obj), (c) => {
      changed = !c.mapping || !sameMapping(c.mapping, mapping);
      return changed ? { ...c, mapping } : c;
    });
    if (changed) this.invalidate(serviceId);
    return changed;
  }
}

function parse(serviceId: string, obj: StoredObject | null): ServiceConfig {
  if (!obj) throw ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
  return parseStoredJson(obj.body, ServiceConfig, `The configuration of service "${serviceId}"`, 'SERVICE_CONFIG_INVALID');
}
