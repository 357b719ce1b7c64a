import type { Mapping } from '@apinode/protocol';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { updateJson } from '../storage/update.js';
import { assertMappable, parseService } from '../services/cleanup-marker.js';
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
    return parseService(serviceId, await this.store.get(layout.service(serviceId))).mapping ?? null;
  }

  /** Writes the mapping unless service.json already has it; leaves `enabled` alone (a disabled service stays disabled). */
  async set(serviceId: string, mapping: Mapping): Promise<boolean> {
    const current = await this.get(serviceId);
    // Checked before writing: a check that finds nothing to do (every scheduled tick) costs a GET, not a PUT.
    if (current && sameMapping(current, mapping)) return false;
    let changed = false;
    await updateJson(this.store, layout.service(serviceId), (obj) => parseService(serviceId, obj), async (c) => {
      changed = !c.mapping || !sameMapping(c.mapping, mapping);
      // As ServiceAdmin.setMapping: not a generation without its manifest, or one a clean-up is deleting.
      if (changed) await assertMappable(this.store, serviceId, c, mappedGenerations(mapping));
      return changed ? { ...c, mapping } : c;
    });
    if (changed) this.invalidate(serviceId);
    return changed;
  }
}
