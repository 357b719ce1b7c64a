/**
 * The clean-up marker of service.json (`cleanup`, docs/admin.md#cleaning-up): how every writer of
 * service.json reads it and respects it. A delete or clean-up writes the marker through the same
 * conditional update as every other change before it deletes anything, so checks made on the
 * copy an update read (which is written back only if unchanged) cannot miss it.
 */
import { ServiceConfig, type CleanupMarker } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';

/** service.json; absent, or (unless `marked`) being deleted by a delete or clean-up: 404. */
export function parseService(serviceId: string, obj: StoredObject | null, marked = false): ServiceConfig {
  if (!obj) throw serviceNotFound(serviceId);
  const config = parseStoredJson(obj.body, ServiceConfig, `The configuration of service "${serviceId}"`, 'SERVICE_CONFIG_INVALID');
  if (config.cleanup?.service && !marked) throw serviceNotFound(serviceId);
  return config;
}

export const serviceNotFound = (serviceId: string) => ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
export const isNotFound = (e: unknown) => e instanceof ApiError && e.errorType === 'SERVICE_NOT_FOUND';
/** Thrown from an update's change to end it without writing: nothing to do (SKIP), or already so (DONE). */
export const SKIP = Symbol('skip');
export const DONE = Symbol('done');

/** The config with exactly these generations marked as being deleted; the marker goes when it marks nothing. */
export function withCleanup(c: ServiceConfig, generations: string[]): ServiceConfig {
  const { cleanup, ...rest } = c;
  if (!generations.length && !cleanup?.service) return rest;
  const next: CleanupMarker = { ...(cleanup?.service ? { service: true as const } : {}), ...(generations.length ? { generations } : {}), startedAt: cleanup?.startedAt ?? new Date().toISOString() };
  return { ...rest, cleanup: next };
}

/**
 * 409 GENERATION_NOT_COMMITTED unless every generation has its manifest and none is being
 * deleted by a clean-up (its marker in `c`). Run inside an update, after `c` was read: the
 * manifest is deleted only after the marker is written, which changes service.json's etag.
 */
export async function assertMappable(store: ObjectStore, serviceId: string, c: ServiceConfig, generations: readonly string[]): Promise<void> {
  const deleting = new Set(c.cleanup?.generations ?? []);
  const missing: string[] = [];
  for (const g of new Set(generations)) if (deleting.has(g) || !(await store.get(layout.manifest(serviceId, g)))) missing.push(g);
  if (missing.length) {
    const marked = missing.filter((g) => deleting.has(g));
    throw new ApiError(
      409,
      'GENERATION_NOT_COMMITTED',
      `The mapping names generations that are not committed: ${missing.join(', ')}`,
      marked.length ? `being deleted by a clean-up: ${marked.join(', ')}` : 'import them first (GET .../generations lists the committed ones)',
    );
  }
}

/** service.json, a service being deleted included (with its marker); 404 only when absent. */
export async function readMarked(store: ObjectStore, serviceId: string): Promise<ServiceConfig> {
  return parseService(serviceId, await store.get(layout.service(serviceId)), true);
}
