import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const Schema = z.object({
  APINODE_CONFIG_TTL_S: int(10),
  APINODE_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1),
  APINODE_MODEL_CACHE_BYTES: int(512 * 1024 * 1024, 1),
  APINODE_MANIFEST_CACHE_ENTRIES: int(256, 1),
  APINODE_QUERY_LOG: z.enum(['stdout', 'off']).default('stdout'),
  APINODE_QUERY_LOG_MAX_FIELD_BYTES: int(16 * 1024, 64),
  APINODE_ADMIN: z.enum(['on', 'off']).default('off'),
  APINODE_ADMIN_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  APINODE_MAX_IMPORT_BYTES: int(256 * 1024 * 1024, 1),
  APINODE_MAX_IMPORT_FILES: int(10_000, 1),
  APINODE_MAX_IMPORT_FILE_BYTES: z.coerce.number().int().min(1).optional(),
  APINODE_IMPORT_DIR: z.string().optional(),
  APINODE_OAUTH2_ALLOW_HTTP_JWKS: z.enum(['on', 'off']).default('off'),
});

/** Node configuration: one typed object, parsed once at start-up from APINODE_* variables. */
export interface Config {
  /** Seconds a service.json stays fresh before it is revalidated (ETag). */
  readonly configTtlS: number;
  readonly maxBodyBytes: number;
  /** Budget of the per-instance ONNX session cache, in bytes of model files. */
  readonly modelCacheBytes: number;
  readonly manifestCacheEntries: number;
  readonly queryLog: 'stdout' | 'off';
  /**
   * Largest features, context or result a query-log line keeps, in bytes of JSON; a larger one
   * is logged as {"truncated": true, "bytes": N}.
   * @default 16384
   */
  readonly queryLogMaxFieldBytes: number;
  /** Mount the admin API (/admin/api). */
  readonly admin: boolean;
  /** A bootstrap admin key, accepted besides admin/keys.json; never stored. */
  readonly adminKey: string | undefined;
  /** Largest generation archive the admin API accepts, packed and unpacked. */
  readonly maxImportBytes: number;
  /**
   * Most entries (files and folders) one generation archive may hold.
   * @default 10000
   */
  readonly maxImportFiles: number;
  /**
   * Largest single file of a generation archive, unpacked.
   * @default - APINODE_MAX_IMPORT_BYTES
   */
  readonly maxImportFileBytes: number;
  /**
   * Node only: the folder the admin importFromArchive may read archives from (a path outside
   * it is 403). Lambda and Workers read object keys under "imports/" in the bucket instead.
   * @default - unset: importing from a path is refused, saying to set it
   */
  readonly importDir: string | undefined;
  /**
   * Accept plain-http JWKS URIs when an admin sets OAUTH2 (an identity provider on loopback in
   * tests). Never in production: whoever can alter the JWKS answer can forge tokens.
   * @default false - https only
   */
  readonly oauth2AllowHttpJwks: boolean;
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const picked = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('APINODE_') && v !== ''));
  const parsed = Schema.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  const c = parsed.data;
  return {
    configTtlS: c.APINODE_CONFIG_TTL_S,
    maxBodyBytes: c.APINODE_MAX_BODY_BYTES,
    modelCacheBytes: c.APINODE_MODEL_CACHE_BYTES,
    manifestCacheEntries: c.APINODE_MANIFEST_CACHE_ENTRIES,
    queryLog: c.APINODE_QUERY_LOG,
    queryLogMaxFieldBytes: c.APINODE_QUERY_LOG_MAX_FIELD_BYTES,
    admin: c.APINODE_ADMIN === 'on',
    adminKey: c.APINODE_ADMIN_KEY,
    maxImportBytes: c.APINODE_MAX_IMPORT_BYTES,
    maxImportFiles: c.APINODE_MAX_IMPORT_FILES,
    maxImportFileBytes: c.APINODE_MAX_IMPORT_FILE_BYTES ?? c.APINODE_MAX_IMPORT_BYTES,
    importDir: c.APINODE_IMPORT_DIR,
    oauth2AllowHttpJwks: c.APINODE_OAUTH2_ALLOW_HTTP_JWKS === 'on',
  };
}
