import {
  jwksUriOf,
  jwksUriProblem,
  ServiceConfig,
  type AuthMethod,
  type CleanupMarker,
  type CleanUnusedResult,
  type CorsSettings,
  type CreatedKey,
  type GenerationInfo,
  type ImportResult,
  type KeyInfo,
  type Mapping,
  type OAuth2Settings,
  type ServiceStatus,
  type StoredKey,
} from '@apinode/protocol';
import { hashKey } from './key-hash.js';
import type { CodeSandbox } from '../code/sandbox.js';
import { ApiError } from '../errors.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { layout } from '../storage/layout.js';
import { isPreconditionFailed, type ObjectStore, type StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { DEFAULT_RETRY, encodeJson, updateJson, type RetryPolicy } from '../storage/update.js';
import { unpackArchive, type ArchiveInput, type ArchiveLimits } from './archive.js';
import { mappedGenerations } from './dispatch.js';
import { commitGeneration, validateGeneration } from './generation-import.js';
import type { Generations } from './generations.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { createdKey, findKey, keyInfo, newKey, newKeyId, withIds } from './keys.js';
import type { ServiceRegistry } from './service-registry.js';

/** What validating an imported generation needs. */
export interface Importer {
  readonly runtime: ModelRuntime;
  readonly sandbox?: CodeSandbox | undefined;
  /** What an archive may hold: size packed and unpacked, files, bytes per file (archive-limits.ts). */
  readonly limits: ArchiveLimits;
  /** The node's database connections: data endpoints' statements run once, rolled back, at import. @default - none: SQL is only compiled */
  readonly sql?: SqlConnections | undefined;
}

export interface ServiceAdminOptions {
  /** Accept plain-http JWKS URIs in setAuth (APINODE_OAUTH2_ALLOW_HTTP_JWKS). @default false */
  readonly allowHttpJwks?: boolean;
  /** Tries of a change to service.json racing other writers. @default DEFAULT_RETRY (storage/update.ts) */
  readonly retry?: RetryPolicy;
}

/**
 * Service state changes, straight on the object store: read service.json fresh (never the
 * cached copy), change it, write it back only if no one else wrote it meanwhile (else read
 * again and re-apply the change: storage/update.ts), and drop this instance's cached copy.
 * Other instances see the change within their config TTL.
 */
export class ServiceAdmin {
  constructor(
    private readonly store: ObjectStore,
    private readonly registry: ServiceRegistry,
    private readonly generations: Generations,
    private readonly importer: Importer,
    private readonly options: ServiceAdminOptions = {},
  ) {}

  /** Services deleted (or being deleted) between the listing and the read are left out, not a 404 of the whole list. */
  async list(): Promise<ServiceStatus[]> {
    const found = await Promise.all((await this.ids()).map((id) => this.read(id).then(status, (e: unknown) => (isNotFound(e) ? null : Promise.reject(e)))));
    return found.filter((s): s is ServiceStatus => s !== null);
  }

  async status(serviceId: string): Promise<ServiceStatus> {
    return status(await this.read(serviceId));
  }

  async create(serviceId: string, method: AuthMethod = 'API_KEYS'): Promise<ServiceStatus> {
    if (method === 'OAUTH2') throw ApiError.badRequest('INVALID_REQUEST', 'Create the service, then set OAUTH2 with its issuer and audience (setAuth)');
    // A new service serves nothing until a mapping is set (setting one enables it).
    const config: ServiceConfig = { serviceId, enabled: false, auth: { method, keys: [] } };
    try {
      await this.store.put(layout.service(serviceId), encodeJson(config), { ifNoneMatch: '*' });
    } catch (e) {
      if (!isPreconditionFailed(e)) throw e;
      const deleting = (await this.readMarked(serviceId).catch(() => null))?.cleanup?.service;
      throw deleting
        ? new ApiError(409, 'SERVICE_EXISTS', `Service "${serviceId}" is being deleted; create it again once it is gone`, 'a delete or clean-up is removing its files; if none is running (it stopped halfway), run the clean-up (DELETE /services-clean-unused) to finish it')
        : new ApiError(409, 'SERVICE_EXISTS', `Service "${serviceId}" already exists`);
    }
    this.registry.invalidate(serviceId);
    return status(config);
  }

  /**
   * Marks the service as being deleted (cleanup.service, a conditional write like any other
   * change: from then on every change answers 404), then deletes its files, service.json last.
   * A service already marked is 404 (another delete or clean-up has it); one that stopped halfway
   * is finished by the next clean-up.
   */
  async delete(serviceId: string): Promise<void> {
    await this.markService(serviceId, () => true);
    await this.removeMarkedService(serviceId);
  }

  async setEnabled(serviceId: string, enabled: boolean): Promise<ServiceStatus> {
    const config = await this.update(serviceId, (c) => {
      if (enabled && !c.mapping) throw new ApiError(409, 'SERVICE_NOT_MAPPED', `Service "${serviceId}" has no mapping: set one (it enables the service)`);
      return { ...c, enabled };
    });
    return status(config);
  }

  /**
   * Validated: every generation committed and not being deleted by a clean-up, probas summing to 1
   * (schema). Enables the service. Checked inside the update, after service.json was read: the
   * write lands only if service.json did not change since, so a clean-up that marks one of these
   * generations (a write to service.json, before it deletes anything) makes this try again and
   * refuse, and one that marked it before our read is seen.
   */
  async setMapping(serviceId: string, mapping: Mapping): Promise<ServiceStatus> {
    // First against the generations listed (the answer names the committed ones)…
    const committed = new Set((await this.listGenerations(serviceId)).map((g) => g.generation));
    const missing = mappedGenerations(mapping).filter((g) => !committed.has(g));
    if (missing.length) {
      throw new ApiError(409, 'GENERATION_NOT_COMMITTED', `The mapping names generations that are not committed: ${missing.join(', ')}`, `committed: ${[...committed].join(', ') || 'none'}`);
    }
    // …then again on the copy of service.json the write depends on.
    return status(
      await this.update(serviceId, async (c) => {
        await assertMappable(this.store, serviceId, c, mappedGenerations(mapping));
        return { ...c, mapping, enabled: true };
      }),
    );
  }

  switchTo(serviceId: string, generation: string): Promise<ServiceStatus> {
    return this.setMapping(serviceId, { mode: 'SINGLE_GENERATION', generation });
  }

  /** The most recent generation by createdAt (ties broken by id). */
  async switchToNewest(serviceId: string): Promise<ServiceStatus> {
    const gens = await this.listGenerations(serviceId);
    const newest = gens.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.generation.localeCompare(b.generation)).at(-1);
    if (!newest) throw new ApiError(409, 'NO_GENERATION', `Service "${serviceId}" has no committed generation`);
    return this.switchTo(serviceId, newest.generation);
  }

  /**
   * Unpacks, validates fully (generation-import.ts) and commits an archive, whether it was
   * uploaded or read from an import path: both routes share this one path to a generation.
   * `archive` opens the archive (a stream, or bytes); a declared size above maxBytes is 413 at once.
   */
  async importArchive(serviceId: string, archive: (maxBytes: number) => Promise<ArchiveInput>): Promise<ImportResult> {
    await this.read(serviceId); // before reading a large archive for a service that does not exist
    const files = await unpackArchive(await archive(this.importer.limits.maxArchiveBytes), this.importer.limits);
    const validated = await validateGeneration(files, this.importer.runtime, this.importer.sandbox, this.importer.sql);
    const gen = validated.manifest.generation;
    const beingDeleted = () =>
      new ApiError(409, 'GENERATION_EXISTS', `Generation "${gen}" of service "${serviceId}" is being deleted by a clean-up; import it under a new id, or again once the clean-up is done`);
    if ((await this.read(serviceId)).cleanup?.generations?.includes(gen)) throw beingDeleted();
    await commitGeneration(this.store, serviceId, validated);
    // Read again after every file is written: a delete (or clean-up) marks service.json before
    // it lists what to delete, so one that began during the commit is seen here, and what it
    // may have missed is removed here instead of outliving the service.
    const after = await this.readMarked(serviceId).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
    if (!after || after.cleanup?.service || after.cleanup?.generations?.includes(gen)) {
      await this.store.delete(layout.manifest(serviceId, gen));
      for (const key of await this.store.list(layout.generation(serviceId, gen))) await this.store.delete(key);
      this.generations.forget(serviceId);
      if (!after || after.cleanup?.service) throw ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" was deleted while the generation was being imported`);
      throw beingDeleted();
    }
    return {
      serviceId,
      generation: validated.manifest.generation,
      files: files.size,
      bytes: validated.bytes,
      endpoints: validated.manifest.endpoints.map((e) => e.id),
      examplesChecked: validated.examplesChecked,
    };
  }

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
  async cleanUnused(): Promise<CleanUnusedResult> {
    const result: CleanUnusedResult = { deletedServices: [], deletedGenerations: [] };
    for (const serviceId of await this.ids()) {
      const config = await this.readMarked(serviceId).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
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
      for (const generation of await this.cleanGenerations(serviceId)) result.deletedGenerations.push({ serviceId, generation });
    }
    return result;
  }

  /**
   * Writes cleanup.service to service.json if `decide` says so on the copy read (answers false
   * when it does not). A service already marked: 404, or, with `finish`, true (a clean-up
   * finishing one that stopped halfway).
   */
  private async markService(serviceId: string, decide: (c: ServiceConfig) => boolean, finish = false): Promise<boolean> {
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
        this.options.retry ?? DEFAULT_RETRY,
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
  private async removeMarkedService(serviceId: string): Promise<boolean> {
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
  private async cleanGenerations(serviceId: string): Promise<string[]> {
    const committed = await this.committed(serviceId);
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
        this.options.retry ?? DEFAULT_RETRY,
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
        this.options.retry ?? DEFAULT_RETRY,
      );
      this.registry.invalidate(serviceId);
    } catch (e) {
      if (!isNotFound(e)) throw e; // deleted meanwhile: no marker to remove
    }
    return doomed;
  }

  /** Committed generations (those with a manifest), oldest first; not those a clean-up is deleting. */
  async listGenerations(serviceId: string): Promise<GenerationInfo[]> {
    const config = await this.read(serviceId);
    const deleting = new Set(config.cleanup?.generations ?? []);
    const probas = new Map<string, number>();
    if (config.mapping?.mode === 'SINGLE_GENERATION') probas.set(config.mapping.generation, 1);
    else for (const e of config.mapping?.entries ?? []) probas.set(e.generation, (probas.get(e.generation) ?? 0) + e.proba);
    const infos: GenerationInfo[] = [];
    for (const gen of await this.committed(serviceId)) {
      if (deleting.has(gen)) continue;
      const g = await this.generations.get(serviceId, gen);
      if (!g) continue;
      infos.push({
        generation: gen,
        createdAt: g.manifest.createdAt,
        ...(g.manifest.description ? { description: g.manifest.description } : {}),
        endpoints: g.manifest.endpoints.map((e) => ({ id: e.id, type: e.type })),
        proba: probas.get(gen) ?? 0,
      });
    }
    return infos.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async setAuth(serviceId: string, method: AuthMethod, oauth2?: OAuth2Settings): Promise<ServiceStatus> {
    if (method === 'OAUTH2' && !oauth2) throw ApiError.badRequest('INVALID_REQUEST', 'OAUTH2 needs "oauth2": {issuer, audience, jwksUri?, requiredScope?}');
    const problem = oauth2 ? jwksUriProblem(jwksUriOf(oauth2), this.options.allowHttpJwks ?? false) : null;
    if (problem) throw ApiError.badRequest('INVALID_REQUEST', `OAUTH2 settings refused: ${problem}`);
    return status(await this.update(serviceId, (c) => ({ ...c, auth: { method, keys: c.auth.keys, ...(oauth2 ? { oauth2 } : {}) } })));
  }

  /** Which web pages may call the service from a browser (src/api/cors.ts); no origins: none may. */
  async setCors(serviceId: string, cors: CorsSettings): Promise<CorsSettings> {
    await this.update(serviceId, (c) => ({ ...c, cors }));
    return cors;
  }

  /** Service key labels stay unique: the label is the caller's name in the query log. */
  async addKey(serviceId: string, label?: string, key: string = newKey()): Promise<CreatedKey> {
    const base = { id: newKeyId(), hash: await hashKey(key), createdAt: new Date().toISOString() };
    let stored: StoredKey | undefined;
    await this.update(serviceId, (c) => {
      // A try whose write landed but whose answer was lost (then 412 on the SDK's retry): done.
      if (stored && c.auth.keys.some((k) => k.id === base.id)) return c;
      // Decided again on every try: the default label counts the keys of the copy being changed.
      const name = label ?? freeLabel(c.auth.keys);
      if (c.auth.keys.some((k) => k.label === name)) throw new ApiError(409, 'KEY_EXISTS', `Service "${serviceId}" already has a key labelled "${name}"`);
      if (c.auth.keys.some((k) => k.hash === base.hash)) throw new ApiError(409, 'KEY_EXISTS', `Service "${serviceId}" already has this key`, 'let the node generate the key (omit "key")');
      stored = { ...base, label: name };
      return { ...c, auth: { ...c.auth, keys: [...withIds(c.auth.keys), stored] } };
    });
    return createdKey(stored!, key);
  }

  async listKeys(serviceId: string): Promise<KeyInfo[]> {
    return (await this.read(serviceId)).auth.keys.map((k) => keyInfo(k));
  }

  /** Revokes by id, by the key itself (as DSS clients do) or by label; answers the revoked key's id. */
  async revokeKey(serviceId: string, segment: string): Promise<string> {
    let revoked: string | undefined;
    await this.update(serviceId, async (c) => {
      const keys = withIds(c.auth.keys);
      const at = await findKey(keys, segment);
      if (at === -1 && revoked !== undefined) return c; // gone since an earlier try found it: revoked either way
      if (at === -1) throw ApiError.notFound('KEY_NOT_FOUND', `Service "${serviceId}" has no key with this id, hash prefix, label or value`);
      revoked = keys.splice(at, 1)[0]!.id;
      return { ...c, auth: { ...c.auth, keys } };
    });
    return revoked!;
  }

  private async ids(): Promise<string[]> {
    const keys = await this.store.list('services/');
    return keys.filter((k) => /^services\/[^/]+\/service\.json$/.test(k)).map((k) => k.split('/')[1] as string);
  }

  private async committed(serviceId: string): Promise<string[]> {
    const keys = await this.store.list(layout.generationsPrefix(serviceId));
    return keys.filter((k) => /\/generations\/[^/]+\/manifest\.json$/.test(k)).map((k) => k.split('/')[3] as string);
  }

  /** 404 for a service that is absent or being deleted (cleanup.service). */
  private async read(serviceId: string): Promise<ServiceConfig> {
    return parseService(serviceId, await this.store.get(layout.service(serviceId)));
  }

  /** As read(), but a service being deleted is answered with its marker (404 only when absent). */
  private async readMarked(serviceId: string): Promise<ServiceConfig> {
    return parseService(serviceId, await this.store.get(layout.service(serviceId)), true);
  }

  /** Read-modify-write of service.json, re-applied on a fresh copy when another writer got there first. */
  private async update(serviceId: string, change: (config: ServiceConfig) => ServiceConfig | Promise<ServiceConfig>): Promise<ServiceConfig> {
    const config = await updateJson(this.store, layout.service(serviceId), (obj) => parseService(serviceId, obj), change, this.options.retry ?? DEFAULT_RETRY);
    this.registry.invalidate(serviceId);
    return config;
  }
}

/** service.json; absent, or (unless `marked`) being deleted by a delete or clean-up: 404. */
function parseService(serviceId: string, obj: StoredObject | null, marked = false): ServiceConfig {
  if (!obj) throw serviceNotFound(serviceId);
  const config = parseStoredJson(obj.body, ServiceConfig, `The configuration of service "${serviceId}"`, 'SERVICE_CONFIG_INVALID');
  if (config.cleanup?.service && !marked) throw serviceNotFound(serviceId);
  return config;
}

const serviceNotFound = (serviceId: string) => ApiError.notFound('SERVICE_NOT_FOUND', `Service "${serviceId}" does not exist`);
const isNotFound = (e: unknown) => e instanceof ApiError && e.errorType === 'SERVICE_NOT_FOUND';
/** Thrown from an update's change to end it without writing: nothing to do (SKIP), or already so (DONE). */
const SKIP = Symbol('skip');
const DONE = Symbol('done');

/** The config with exactly these generations marked as being deleted; the marker goes when it marks nothing. */
function withCleanup(c: ServiceConfig, generations: string[]): ServiceConfig {
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
async function assertMappable(store: ObjectStore, serviceId: string, c: ServiceConfig, generations: readonly string[]): Promise<void> {
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

/** "key-N" for the first N past the number of keys that no key carries yet. */
function freeLabel(keys: readonly StoredKey[]): string {
  const taken = new Set(keys.map((k) => k.label));
  let n = keys.length + 1;
  while (taken.has(`key-${n}`)) n++;
  return `key-${n}`;
}

function status(c: ServiceConfig): ServiceStatus {
  return {
    serviceId: c.serviceId,
    enabled: c.enabled,
    auth: { method: c.auth.method, keys: c.auth.keys.length, ...(c.auth.oauth2 ? { oauth2: c.auth.oauth2 } : {}) },
    mapping: c.mapping ?? null,
  };
}
