import { z } from 'zod';
import { QueryLogSinkStats } from './query-log.js';
import { Id } from './common.js';
import { AuthMethod, Mapping, OAuth2Settings, StoredKey } from './service.js';

/** Admin API shapes (DESIGN 6), shared by the node, the admin client and the CLI. */

export const CreateServiceRequest = z.object({
  serviceId: Id,
  /** @default "API_KEYS" */
  auth: AuthMethod.optional(),
});
export type CreateServiceRequest = z.infer<typeof CreateServiceRequest>;

export const ServiceStatus = z.object({
  serviceId: z.string(),
  enabled: z.boolean(),
  auth: z.object({ method: AuthMethod, keys: z.number(), oauth2: OAuth2Settings.optional() }),
  mapping: Mapping.nullable(),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

export const GenerationInfo = z.object({
  generation: z.string(),
  createdAt: z.string(),
  description: z.string().optional(),
  endpoints: z.array(z.object({ id: z.string(), type: z.string() })),
  /** Share of traffic the current mapping sends to it (0 when unmapped). */
  proba: z.number(),
});
export type GenerationInfo = z.infer<typeof GenerationInfo>;

export const GenerationList = z.object({ generations: z.array(GenerationInfo) });
export type GenerationList = z.infer<typeof GenerationList>;

/** setMapping body: DSS sends {entries:[{generation, proba}]}; SINGLE_GENERATION is accepted too. */
export const SetMappingRequest = Mapping;

export const SetAuthRequest = z.object({ method: AuthMethod, oauth2: OAuth2Settings.optional() });
export type SetAuthRequest = z.infer<typeof SetAuthRequest>;

/**
 * A key brought by the caller: one every client can send, as the HTTP Basic user name (so no
 * ":") and as a Bearer token (RFC 6750's b64token: letters, digits, "-._~+/", then "=" padding
 * at the end only; so no spaces or line breaks), 16 to 512 characters. Keys the node generates
 * (32 random bytes, base64url) always are.
 */
export const BroughtKey = z
  .string()
  .min(16, 'a key needs at least 16 characters')
  .max(512, 'a key has at most 512 characters')
  .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'a key may only use letters, digits and - . _ ~ + / (and = at its end): what HTTP Basic and Bearer credentials can carry');

/** Service keys: POST services/{id}/keys. */
export const CreateKeyRequest = z.object({
  label: z.string().min(1).max(128).optional(),
  /** Bring your own key (see BroughtKey); @default - a random 32-byte key */
  key: BroughtKey.optional(),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

/**
 * When an admin key stops working (401 KEY_EXPIRED after it):
 * - a number, or a string of digits: a lifetime in days from creation (what DSS's `expiry` means on API keys);
 * - "YYYY-MM-DD": the key works through that day, until 00:00 UTC the day after;
 * - an ISO 8601 date-time with a time zone: "2026-12-31T18:00:00Z", "2026-12-31T18:00:00+01:00".
 */
export const KeyExpiry = z.union([z.number(), z.string()]);
export type KeyExpiry = z.infer<typeof KeyExpiry>;

/** Admin keys: POST keys, as the DSS client's add_key(label, description, created_by, expiry) sends it (any field may be null). */
export const CreateAdminKeyRequest = z.object({
  /** Free text, not unique: keys are told apart by id. */
  label: z.string().max(256).nullish(),
  description: z.string().max(4096).nullish(),
  createdBy: z.string().max(256).nullish(),
  /** @default - never expires */
  expiry: KeyExpiry.nullish(),
  /** Bring your own key (see BroughtKey); @default - a random 32-byte key */
  key: BroughtKey.nullish(),
});
export type CreateAdminKeyRequest = z.infer<typeof CreateAdminKeyRequest>;

/** An admin key as admin/keys.json stores it: never the key itself. */
export const StoredAdminKey = StoredKey.extend({
  label: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  createdBy: z.string().max(256).optional(),
  /** ISO 8601 instant from which the key is refused. */
  expiresAt: z.string().optional(),
});
export type StoredAdminKey = z.infer<typeof StoredAdminKey>;

export const AdminKeysFile = z.object({ keys: z.array(StoredAdminKey).default([]) });
export type AdminKeysFile = z.infer<typeof AdminKeysFile>;

/** A key as lists show it: its id and metadata, never the key. */
export const KeyInfo = z.object({
  id: z.string(),
  label: z.string().nullable(),
  createdAt: z.string().optional(),
  /** The first 8 hex digits of the key's SHA-256, to tell keys apart by what their holders have. */
  hashPrefix: z.string(),
  description: z.string().optional(),
  createdBy: z.string().optional(),
  expiresAt: z.string().optional(),
  /** Present with expiresAt. */
  expired: z.boolean().optional(),
});
export type KeyInfo = z.infer<typeof KeyInfo>;

export const KeyList = z.object({ keys: z.array(KeyInfo) });
export type KeyList = z.infer<typeof KeyList>;

/** The only time a key is shown: on creation. */
export const CreatedKey = KeyInfo.extend({ key: z.string(), createdAt: z.string() });
export type CreatedKey = z.infer<typeof CreatedKey>;

export const RevokedKey = z.object({ revoked: z.literal(true), id: z.string() });
export type RevokedKey = z.infer<typeof RevokedKey>;

export const ImportResult = z.object({
  serviceId: z.string(),
  generation: z.string(),
  files: z.number(),
  bytes: z.number(),
  endpoints: z.array(z.string()),
  examplesChecked: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

/** DELETE services-clean-unused: what was deleted. */
export const CleanUnusedResult = z.object({
  /** Disabled services, deleted with all their generations. */
  deletedServices: z.array(z.string()),
  /** Committed generations of enabled services that their mapping does not reference. */
  deletedGenerations: z.array(z.object({ serviceId: z.string(), generation: z.string() })),
});
export type CleanUnusedResult = z.infer<typeof CleanUnusedResult>;

/** DELETE model-cache: what this instance dropped. */
export const ModelCacheCleared = z.object({
  /** Loaded models (ONNX sessions); one still in use is disposed when its request ends. */
  models: z.number(),
  /** Their weight in the cache's budget. */
  bytes: z.number(),
  /** Cached generation manifests. */
  generations: z.number(),
});
export type ModelCacheCleared = z.infer<typeof ModelCacheCleared>;

const Histogram = z.object({ count: z.number(), sumMs: z.number(), buckets: z.record(z.string(), z.number()) });

export const MetricsSnapshot = z.object({
  since: z.string(),
  endpoints: z.array(
    z.object({
      serviceId: z.string(),
      endpointId: z.string(),
      generation: z.string(),
      requests: z.number(),
      records: z.number(),
      errors: z.record(z.string(), z.number()),
      latency: Histogram,
    }),
  ),
  errors: z.record(z.string(), z.number()),
  /** Per query-log sink (APINODE_QUERY_LOG); absent from nodes that predate it. */
  queryLog: z.array(QueryLogSinkStats).optional(),
});
export type MetricsSnapshot = z.infer<typeof MetricsSnapshot>;
