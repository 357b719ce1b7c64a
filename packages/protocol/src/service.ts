import { z } from 'zod';
import { Id } from './common.js';

export const SplitMapping = z
  .object({
    mode: z.literal('SPLIT').default('SPLIT'),
    entries: z.array(z.object({ generation: Id, proba: z.number().min(0).max(1) })).min(1),
  })
  .refine((m) => Math.abs(m.entries.reduce((s, e) => s + e.proba, 0) - 1) < 1e-6, {
    message: 'mapping probas must sum to 1',
    path: ['entries'],
  });

export const SingleMapping = z.object({ mode: z.literal('SINGLE_GENERATION'), generation: Id });

export const Mapping = z.union([SingleMapping, SplitMapping]);
export type Mapping = z.infer<typeof Mapping>;

/** A service key as stored: never the key itself. */
export const StoredKey = z.object({
  /** Stable, not secret: revokes the key without sending it. Absent in files written before ids (then derived from the hash). */
  id: z.string().min(1).max(64).optional(),
  label: z.string().min(1).max(128),
  /** "sha256:" + hex digest of the key */
  hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  createdAt: z.string().optional(),
});
export type StoredKey = z.infer<typeof StoredKey>;

/** OAuth2: a Bearer JWT signed by the issuer's keys (JWKS), for this audience, not expired. */
export const OAuth2Settings = z.object({
  issuer: z.string().min(1),
  /** @default - "<issuer>/.well-known/jwks.json" */
  jwksUri: z.url().optional(),
  audience: z.string().min(1),
  /** A scope the token must carry (in "scope" or "scp"); a valid token without it is 403. */
  requiredScope: z.string().min(1).optional(),
});
export type OAuth2Settings = z.infer<typeof OAuth2Settings>;

/** Where the issuer's signing keys are fetched from. */
export const jwksUriOf = (s: OAuth2Settings): string => s.jwksUri ?? `${s.issuer.replace(/\/$/, '')}/.well-known/jwks.json`;

/**
 * Why a JWKS URI cannot be used, or null when it can: https only (a plain-http JWKS lets anyone
 * on the path forge tokens; file:, data: and the like read what they should not), plain http only
 * where the node allows it for local testing (APINODE_OAUTH2_ALLOW_HTTP_JWKS).
 */
export function jwksUriProblem(uri: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `the JWKS URI "${uri}" is not a URL (give "jwksUri", or an "issuer" URL the keys are under at /.well-known/jwks.json)`;
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') return allowHttp ? null : `the JWKS URI "${uri}" is plain http: use https (set APINODE_OAUTH2_ALLOW_HTTP_JWKS=on to allow http for local testing only)`;
  return `the JWKS URI "${uri}" uses ${url.protocol}: only https is accepted`;
}

export const AuthMethod = z.enum(['PUBLIC', 'API_KEYS', 'OAUTH2']);
export type AuthMethod = z.infer<typeof AuthMethod>;

export const ServiceAuth = z
  .object({
    method: AuthMethod,
    keys: z.array(StoredKey).default([]),
    oauth2: OAuth2Settings.optional(),
  })
  .refine((a) => a.method !== 'OAUTH2' || a.oauth2, { message: 'OAUTH2 needs "oauth2" settings', path: ['oauth2'] });
export type ServiceAuth = z.infer<typeof ServiceAuth>;

/** An origin a browser sends ("https://app.example.com"), or one with any port ("http://localhost:*"). */
export const OriginPattern = z
  .string()
  .max(256)
  .regex(/^[a-z][a-z0-9+.-]*:\/\/([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:(\d{1,5}|\*))?$/i, 'an origin is scheme://host[:port], with "*" for any port ("http://localhost:*"), no path and no trailing slash');

/** CORS per service (docs/api.md): preflights are answered before auth; an origin not listed gets no grant. */
export const CorsSettings = z.object({
  allowedOrigins: z.array(OriginPattern).max(100),
  /** How long a browser may cache a preflight answer. @default 600 */
  maxAgeS: z.number().int().min(0).max(86_400).optional(),
});
export type CorsSettings = z.infer<typeof CorsSettings>;

/**
 * A clean-up or a delete under way (ServiceAdmin.cleanUnused / delete): written to service.json
 * through the same conditional update as every other change, before anything is deleted, so it
 * is ordered against them by the store's ETag. While it is there no writer maps a generation it
 * lists, and a service it marks answers as if it did not exist; the next clean-up finishes a
 * clean-up that stopped halfway. Serving ignores it.
 */
export const CleanupMarker = z.object({
  /** The whole service is being deleted: service.json goes last. */
  service: z.literal(true).optional(),
  /** Generations being deleted (manifest first, then their files). */
  generations: z.array(Id).optional(),
  startedAt: z.string(),
});
export type CleanupMarker = z.infer<typeof CleanupMarker>;

export const ServiceConfig = z.object({
  serviceId: Id,
  enabled: z.boolean().default(true),
  auth: ServiceAuth.default({ method: 'API_KEYS', keys: [] }),
  mapping: Mapping.optional(),
  /** Which web pages (origins) may call the service from a browser. @default - none */
  cors: CorsSettings.optional(),
  /** A clean-up or delete under way (CleanupMarker). @default - none */
  cleanup: CleanupMarker.optional(),
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;
