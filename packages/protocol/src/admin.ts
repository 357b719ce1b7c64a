import { z } from 'zod';
import { Id } from './common.js';
import { AuthMethod, Mapping, OAuth2Settings } from './service.js';

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

export const CreateKeyRequest = z.object({
  label: z.string().min(1).max(128).optional(),
  /** Bring your own key (at least 16 characters); @default - a random 32-byte key */
  key: z.string().min(16).max(512).optional(),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;

/** The only time a key is shown: on creation. */
export const CreatedKey = z.object({ key: z.string(), label: z.string(), createdAt: z.string() });
export type CreatedKey = z.infer<typeof CreatedKey>;

export const KeyInfo = z.object({ label: z.string(), createdAt: z.string().optional(), hashPrefix: z.string() });
export type KeyInfo = z.infer<typeof KeyInfo>;

export const KeyList = z.object({ keys: z.array(KeyInfo) });
export type KeyList = z.infer<typeof KeyList>;

export const ImportResult = z.object({
  serviceId: z.string(),
  generation: z.string(),
  files: z.number(),
  bytes: z.number(),
  endpoints: z.array(z.string()),
  examplesChecked: z.number(),
});
export type ImportResult = z.infer<typeof ImportResult>;

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
});
export type MetricsSnapshot = z.infer<typeof MetricsSnapshot>;
