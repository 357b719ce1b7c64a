/**
 * Deleting services and unused generations without losing another admin's change
 * (docs/admin.md#cleaning-up): the clean-up marker is written first, through the conditional
 * update every writer uses (cleanup-marker.ts), and what goes is decided on the copy it read.
 */
import type { CleanUnusedResult, ServiceConfig } from '@apinode/protocol';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { updateJson, type RetryPolicy } from '../storage/update.js';
import { DONE, isNotFound, parseService, readMarked, serviceNotFound, SKIP, withCleanup } from './cleanup-marker.js';
import { mappedGenerations } from './dispatch.js';
import type { Generations } from './generations.js';
import type { ServiceRegistry } from './service-registry.js';

export class ServiceCleanup {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ServiceRegistry,
    private readonly generations: Generations,
    private readonly retry: RetryPolicy,
  ) {}

  /**
   * DSS's clean-up: deletes every disabled service (with its generations), and every committed
   * generation of an enabled service that its mapping does not reference. A generation imported
   * but not mapped yet counts as unused; folders without a manifest (an import in progress) are
   * left alone.
   *
   * Safe against other admins and the rollout controller: what is to be deleted is first written
   * to service.json as a clean-up marker, by the same conditional update as their changes, and
   * decided from the copy that update read (so a generation mapped, or a service enabled, before
   * the marker lands is kept); once the marker is there they refuse to map its generations, or to
   * change a service it deletes (404). Then the files go, manifest first, and the marker is
   * removed (for a service, service.json is deleted last). A clean-up that stopped halfway left
   * its marker: this one finishes it.
   */
  async cleanUnused(ids: Promise<string[]>, committed: (serviceId: string) => Promise<string[]>): Promise<CleanUnusedResult> {
    const result: CleanUnusedResult = { deletedServices: [], deletedGenerations: [] };
    for (const serviceId of await ids) {
      const config = await readMarked(this.store, serviceId).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
      if (!config) continue; // deleted meanwhile
      if (config.cleanup?.service || !config.enabled) {
        // Decided again on the copy the marking reads: enabled meanwhile, it is kept.
        const marked = await this.markService(serviceId, (c) => !c.enabled, true).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
        if (marked === null) continue; // deleted meanwhile
        if (marked && (await this.removeMarkedService(serviceId))) {
          result.deletedServices.push(serviceId);
          continue;
        }
      }
      for (const generation of await this.cleanGenerations(serviceId, await committed(serviceId))) result.deletedGenerations.push({ serviceId, generation });
    }
    return result;
  }

  /**
   * Writes cleanup.service to service.json if `decide` says so on the copy read (answers false
   * when it does not). A service already marked: 404, or, with `finish`, true (a clean-up
   * finishing one that stopped halfway).
   */
  async markService(serviceId: string, decide: (c: ServiceConfig) => boolean, finish = false): Promise<boolean> {
    try {
      await updateJson(
        this.store,
        layout.service(serviceId),
        (obj) => parseService(serviceId, obj, true),
        (c) => {
          if (c.cleanup?.service) {
            if (finish) throw DONE;
            throw serviceNotFound(serviceId);
          }
          if (!decide(c)) throw SKIP;
          return { ...c, cleanup: { ...c.cleanup, service: true as const, startedAt: new Date().toISOString() } };
        },
        this.retry,
      );
    } catch (e) {
      if (e === SKIP) return false;
      if (e !== DONE) throw e;
    }
    this.registry.invalidate(serviceId);
    return true;
  }

  /**
   * Deletes a service marked cleanup.service: its files, then service.json, read again just
   * before and deleted only if it still carries the mark (a clean-up racing this one may have
   * finished, and the service been created again since). Answers false if it was not marked.
   */
  async removeMarkedService(serviceId: string): Promise<boolean> {
    const key = layout.service(serviceId);
    for (const k of await this.store.list(`services/${serviceId}/`)) if (k !== key) await this.store.delete(k);
    this.generations.forget(serviceId);
    const still = await this.store.get(key);
    const marked = still !== null && parseService(serviceId, still, true).cleanup?.service === true;
    if (marked) await this.store.delete(key);
    this.registry.invalidate(serviceId);
    return marked;
  }

  /** Marks the service's unused generations (with any a stopped clean-up left marked), deletes them, unmarks them. */
  private async cleanGenerations(serviceId: string, committed: readonly string[]): Promise<string[]> {
    let doomed: string[] = [];
    try {
      await updateJson(
        this.store,
        layout.service(serviceId),
        (obj) => parseService(serviceId, obj),
        (c) => {
          const used = new Set(c.mapping ? mappedGenerations(c.mapping) : []);
          const pending = c.cleanup?.generations ?? [];
          doomed = [...new Set([...pending, ...committed])].filter((g) => !used.has(g));
          if (!doomed.length && !pending.length) throw SKIP;
          if (doomed.length === pending.length && doomed.every((g, i) => g === pending[i])) throw DONE; // marked already: no write
          return withCleanup(c, doomed);
        },
        this.retry,
      );
    } catch (e) {
      if (e === SKIP || isNotFound(e)) return []; // nothing to do, or the service is gone or going
      if (e !== DONE) throw e;
    }
    this.registry.invalidate(serviceId);
    if (!doomed.length) return [];
    for (const generation of doomed) {
      // The manifest first: the generation stops being committed before its files go.
      await this.store.delete(layout.manifest(serviceId, generation));
      for (const key of await this.store.list(layout.generation(serviceId, generation))) await this.store.delete(key);
    }
    this.generations.forget(serviceId);
    const done = new Set(doomed);
    try {
      await updateJson(
        this.store,
        layout.service(serviceId),
        (obj) => parseService(serviceId, obj, true),
        (c) => withCleanup(c, (c.cleanup?.generations ?? []).filter((g) => !done.has(g))),
        this.retry,
      );
      this.registry.invalidate(serviceId);
    } catch (e) {
      if (!isNotFound(e)) throw e; // deleted meanwhile: no marker to remove
    }
    return doomed;
  }

}
