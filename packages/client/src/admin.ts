import type {
  AuthMethod,
  CleanUnusedResult,
  CorsSettings,
  CreateAdminKeyRequest,
  CreatedKey,
  DriftReport,
  GenerationList,
  ImportResult,
  KeyList,
  Mapping,
  MetricsSnapshot,
  ModelCacheCleared,
  OAuth2Settings,
  RevokedKey,
  RolloutStartRequest,
  RolloutState,
  RolloutStatus,
  ServiceStatus,
} from '@apinode/protocol';
import { basic, call, type HttpOptions } from './http.js';

/** The admin API client: one method per route of /admin/api (DESIGN 6). Failures throw ApiNodeError. */
export class APINodeAdminClient {
  private readonly auth: string;

  constructor(
    private readonly uri: string,
    adminKey: string,
    private readonly opts: HttpOptions = {},
  ) {
    this.auth = basic(adminKey);
  }

  listServices(): Promise<ServiceStatus[]> {
    return this.call('GET', '/services');
  }
  createService(serviceId: string, auth?: AuthMethod): Promise<ServiceStatus> {
    return this.call('POST', '/services', { serviceId, ...(auth ? { auth } : {}) });
  }
  getService(serviceId: string): Promise<ServiceStatus> {
    return this.call('GET', `/services/${enc(serviceId)}`);
  }
  deleteService(serviceId: string): Promise<{ deleted: string }> {
    return this.call('DELETE', `/services/${enc(serviceId)}`);
  }
  /** Deletes disabled services, and generations no mapping references (DSS clean_unused_services_and_generations). */
  cleanUnused(): Promise<CleanUnusedResult> {
    return this.call('DELETE', '/services-clean-unused');
  }
  enableService(serviceId: string): Promise<ServiceStatus> {
    return this.action(serviceId, 'enable');
  }
  disableService(serviceId: string): Promise<ServiceStatus> {
    return this.action(serviceId, 'disable');
  }
  setMapping(serviceId: string, mapping: Mapping | { entries: { generation: string; proba: number }[] }): Promise<ServiceStatus> {
    return this.action(serviceId, 'setMapping', mapping);
  }
  switchTo(serviceId: string, generation: string): Promise<ServiceStatus> {
    return this.action(serviceId, `switchTo/${enc(generation)}`);
  }
  switchToNewest(serviceId: string): Promise<ServiceStatus> {
    return this.action(serviceId, 'switchToNewest');
  }
  setAuth(serviceId: string, method: AuthMethod, oauth2?: OAuth2Settings): Promise<ServiceStatus> {
    return this.action(serviceId, 'setAuth', { method, ...(oauth2 ? { oauth2 } : {}) });
  }
  /** The origins ("https://app.example.com", "http://localhost:*") whose pages may call the service from a browser; [] allows none. */
  setCors(serviceId: string, allowedOrigins: string[], maxAgeS?: number): Promise<CorsSettings> {
    return this.call('PUT', `/services/${enc(serviceId)}/cors`, { allowedOrigins, ...(maxAgeS !== undefined ? { maxAgeS } : {}) });
  }

  listGenerations(serviceId: string): Promise<GenerationList> {
    return this.call('GET', `/services/${enc(serviceId)}/generations`);
  }
  /** Uploads a generation archive (tar.gz or zip; a stream lets the caller show progress). */
  importGeneration(serviceId: string, archive: Uint8Array | ReadableStream<Uint8Array>): Promise<ImportResult> {
    return this.call('POST', `/services/${enc(serviceId)}/generations`, archive);
  }
  /**
   * Imports an archive the node reads itself: on Node a file under its APINODE_IMPORT_DIR, on
   * Lambda and Workers an object key under "imports/" in its bucket (docs/admin.md).
   */
  importFromArchive(serviceId: string, filePath: string): Promise<ImportResult> {
    return this.call('POST', `/services/${enc(serviceId)}/generations/actions/importFromArchive?filePath=${enc(filePath)}`);
  }
  preloadGeneration(serviceId: string, generation: string): Promise<{ serviceId: string; generation: string; endpoints: string[] }> {
    return this.call('POST', `/services/${enc(serviceId)}/generations/${enc(generation)}/preload`);
  }

  listServiceKeys(serviceId: string): Promise<KeyList> {
    return this.call('GET', `/services/${enc(serviceId)}/keys`);
  }
  addServiceKey(serviceId: string, label?: string, key?: string): Promise<CreatedKey> {
    return this.call('POST', `/services/${enc(serviceId)}/keys`, { ...(label ? { label } : {}), ...(key ? { key } : {}) });
  }
  /** By id (listed with the keys), by label, or by the key itself. */
  revokeServiceKey(serviceId: string, idOrLabel: string): Promise<RevokedKey> {
    return this.call('DELETE', `/services/${enc(serviceId)}/keys/${enc(idOrLabel)}`);
  }

  listAdminKeys(): Promise<KeyList> {
    return this.call('GET', '/keys');
  }
  /** Labels are free text, not unique; `expiry` is days, a date or a date-time (KeyExpiry). */
  addAdminKey(options: CreateAdminKeyRequest = {}): Promise<CreatedKey> {
    return this.call('POST', '/keys', options);
  }
  /** By id, by a label only one key carries, or by the key itself (DSS delete_key). */
  revokeAdminKey(idOrLabel: string): Promise<RevokedKey> {
    return this.call('DELETE', `/keys/${enc(idOrLabel)}`);
  }
  /** By id only (DSS delete_key_by_id). */
  revokeAdminKeyById(id: string): Promise<RevokedKey> {
    return this.call('DELETE', `/keys/${enc(id)}/key`);
  }

  /** Starts a guarded rollout of a committed generation (docs/rollouts.md); 409 CONFLICT while another runs. */
  startRollout(serviceId: string, request: RolloutStartRequest): Promise<RolloutState> {
    return this.call('POST', `/services/${enc(serviceId)}/rollout`, request);
  }
  /** The rollout's state, the mapping it asks for and the current step's figures (404 NOT_FOUND: none). */
  rolloutStatus(serviceId: string): Promise<RolloutStatus> {
    return this.call('GET', `/services/${enc(serviceId)}/rollout`);
  }
  /** All traffic to the new generation now. */
  promoteRollout(serviceId: string): Promise<RolloutState> {
    return this.call('POST', `/services/${enc(serviceId)}/rollout/promote`);
  }
  /** Back to the mapping the rollout started from. */
  abortRollout(serviceId: string): Promise<RolloutState> {
    return this.call('POST', `/services/${enc(serviceId)}/rollout/abort`);
  }
  /** Checks the rollout now, as the scheduled pass does every minute, and answers its status. */
  checkRollout(serviceId: string): Promise<RolloutStatus> {
    return this.call('POST', `/services/${enc(serviceId)}/rollout/check`);
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.call('GET', '/metrics');
  }
  metricsPrometheus(): Promise<string> {
    return this.call('GET', '/metrics?format=prometheus');
  }
  /** Drops the loaded models of the instance that answers (one of many on Lambda and Workers). */
  clearModelCache(): Promise<ModelCacheCleared> {
    return this.call('DELETE', '/model-cache');
  }

  /** Production inputs of the query log's window against the generation's reference, features sorted by drift (docs/drift.md). */
  drift(serviceId: string, endpointId: string, opts: { since?: string; until?: string; generation?: string } = {}): Promise<DriftReport> {
    const q = new URLSearchParams(Object.entries(opts).filter((e): e is [string, string] => typeof e[1] === 'string')).toString();
    return this.call('GET', `/services/${enc(serviceId)}/endpoints/${enc(endpointId)}/drift${q ? `?${q}` : ''}`);
  }

  private action<T>(serviceId: string, name: string, body: unknown = {}): Promise<T> {
    return this.call('POST', `/services/${enc(serviceId)}/actions/${name}`, body);
  }
  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(this.uri, method, `/admin/api${path}`, this.auth, body, this.opts);
  }
}

const enc = encodeURIComponent;
