import type { MiddlewareHandler } from 'hono';
import { Id, type CorsSettings } from '@apinode/protocol';
import type { Deps } from '../services/deps.js';
import type { AppEnv } from './env.js';

/** What a preflight is granted: the methods and request headers of the user API (DSS clients and OIP). */
const ALLOW_METHODS = 'GET, POST';
const ALLOW_HEADERS = 'Authorization, Content-Type';
/** Headers a page may read from an answer (CORS hides all but a few by default). */
const EXPOSE_HEADERS = 'X-Apinode-Generation, X-Request-Id, DSS-API-Version, DSS-Version';
const DEFAULT_MAX_AGE_S = 600;

/** The service a user-API path names: /public/api/v1/{serviceId}/… or /oip/{serviceId}/…. */
const SERVICE_PATH = /^\/(?:public\/api\/v1|oip)\/([^/]+)/;

/**
 * CORS per service (service.json `cors`). A preflight (OPTIONS with Access-Control-Request-Method)
 * is answered here, before authentication, since browsers send no credentials with it; other
 * answers, errors included, carry the grant too, so a page can read why a call failed. An origin
 * the service does not list gets no grant, and the browser keeps the answer from the page.
 * Headers are set before the handler runs (see commonHeaders in http.ts).
 */
export function corsForServices(deps: Deps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // The answer depends on the Origin header: caches must key on it, granted or not.
    c.header('Vary', 'Origin');
    const origin = c.req.header('origin');
    const preflight = c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
    const serviceId = origin ? SERVICE_PATH.exec(c.req.path)?.[1] : undefined;
    // A store that cannot answer grants nothing: the request itself then fails with its own error.
    const service = serviceId && Id.safeParse(serviceId).success ? await deps.registry.get(serviceId).catch(() => null) : null;
    const cors = service?.cors;
    const granted = origin !== undefined && cors !== undefined && allows(cors, origin);
    if (granted) c.header('Access-Control-Allow-Origin', origin);
    if (!preflight) {
      if (granted) c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      return next();
    }
    if (granted) {
      c.header('Access-Control-Allow-Methods', ALLOW_METHODS);
      c.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
      c.header('Access-Control-Max-Age', String(cors?.maxAgeS ?? DEFAULT_MAX_AGE_S));
    }
    return c.body(null, 204);
  };
}

/**
 * Whether a service's CORS settings grant this Origin. Origins compare whole and case-blind
 * ("https://app.example.com"); "scheme://host:*" stands for the host on any port, or on none.
 * The "null" origin (sandboxed frames, file: pages) is never granted.
 */
export function allows(cors: CorsSettings, origin: string): boolean {
  const o = origin.toLowerCase();
  return cors.allowedOrigins.some((pattern) => {
    const p = withoutDefaultPort(pattern.toLowerCase());
    if (!p.endsWith(':*')) return o === p;
    const host = p.slice(0, -2);
    return o === host || (o.startsWith(`${host}:`) && /^\d{1,5}$/.test(o.slice(host.length + 1)));
  });
}

/** Browsers never send a scheme's default port: "https://a.example:443" is sent as "https://a.example". */
const withoutDefaultPort = (p: string) => p.replace(/^(http:\/\/[^/]+):80$|^(https:\/\/[^/]+):443$/, '$1$2');
