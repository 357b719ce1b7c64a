import {
  jwksUriOf,
  jwksUriProblem,
  type ServiceConfig,
  type AuthMethod,
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
import { assertMappable, isNotFound, parseService, readMarked } from './cleanup-marker.js';
import { ServiceCleanup } from './service-cleanup.js';
import type { CodeSandbox } from '../code/sandbox.js';
import { ApiError } from '../errors.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { layout } from '../storage/layout.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';
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
  ) {
    this.cleanup = new ServiceCleanup(store, registry, generations, options.retry ?? DEFAULT_RETRY);
  }

  private readonly cleanup: ServiceCleanup;

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
      const deleting = (await readMarked(this.store, serviceId).catch(() => null))?.cleanup?.service;
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
    await this.cleanup.markService(serviceId, () => true);
    await this.cleanup.removeMarkedService(serviceId);
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
    const after = await readMarked(this.store, serviceId).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
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

  /** DSS's clean-up (service-cleanup.ts): disabled services, and generations no mapping references. */
  cleanUnused(): Promise<CleanUnusedResult> {
    return this.cleanup.cleanUnused(this.ids(), (id) => this.committed(id));
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


  /** Read-modify-write of service.json, re-applied on a fresh copy when another writer got there first. */
  private async update(serviceId: string, change: (config: ServiceConfig) => ServiceConfig | Promise<ServiceConfig>): Promise<ServiceConfig> {
    const config = await updateJson(this.store, layout.service(serviceId), (obj) => parseService(serviceId, obj), change, this.options.retry ?? DEFAULT_RETRY);
    this.registry.invalidate(serviceId);
    return config;
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
