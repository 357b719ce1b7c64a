import type {
  AuthMethod,
  CreatedKey,
  GenerationList,
  ImportResult,
  KeyList,
  Mapping,
  MetricsSnapshot,
  OAuth2Settings,
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

  listGenerations(serviceId: string): Promise<GenerationList> {
    return this.call('GET', `/services/${enc(serviceId)}/generations`);
  }
  /** Uploads a generation archive (tar.gz or zip; a stream lets the caller show progress). */
  importGeneration(serviceId: string, archive: Uint8Array | ReadableStream<Uint8Array>): Promise<ImportResult> {
    return this.call('POST', `/services/${enc(serviceId)}/generations`, archive);
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
  revokeServiceKey(serviceId: string, labelOrKey: string): Promise<{ revoked: true }> {
    return this.call('DELETE', `/services/${enc(serviceId)}/keys/${enc(labelOrKey)}`);
  }

  listAdminKeys(): Promise<KeyList> {
    return this.call('GET', '/keys');
  }
  addAdminKey(label?: string, key?: string): Promise<CreatedKey> {
    return this.call('POST', '/keys', { ...(label ? { label } : {}), ...(key ? { key } : {}) });
  }
  revokeAdminKey(labelOrKey: string): Promise<{ revoked: true }> {
    return this.call('DELETE', `/keys/${enc(labelOrKey)}`);
  }

  metrics(): Promise<MetricsSnapshot> {
    return this.call('GET', '/metrics');
  }
  metricsPrometheus(): Promise<string> {
    return this.call('GET', '/metrics?format=prometheus');
  }

  private action<T>(serviceId: string, name: string, body: unknown = {}): Promise<T> {
    return this.call('POST', `/services/${enc(serviceId)}/actions/${name}`, body);
  }
  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(this.uri, method, `/admin/api${path}`, this.auth, body, this.opts);
  }
}

const enc = encodeURIComponent;
