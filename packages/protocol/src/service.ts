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

export const ServiceConfig = z.object({
  serviceId: Id,
  enabled: z.boolean().default(true),
  auth: ServiceAuth.default({ method: 'API_KEYS', keys: [] }),
  mapping: Mapping.optional(),
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;
