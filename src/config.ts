import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

const Schema = z.object({
  APINODE_CONFIG_TTL_S: int(10),
  APINODE_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1),
  APINODE_MODEL_CACHE_BYTES: int(512 * 1024 * 1024, 1),
  APINODE_MANIFEST_CACHE_ENTRIES: int(256, 1),
  APINODE_QUERY_LOG: z.enum(['stdout', 'off']).default('stdout'),
  APINODE_ADMIN: z.enum(['on', 'off']).default('off'),
  APINODE_ADMIN_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  APINODE_MAX_IMPORT_BYTES: int(256 * 1024 * 1024, 1),
  APINODE_IMPORT_DIR: z.string().optional(),
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
  /** Mount the admin API (/admin/api). */
  readonly admin: boolean;
  /** A bootstrap admin key, accepted besides admin/keys.json; never stored. */
  readonly adminKey: string | undefined;
  /** Largest generation archive the admin API accepts, packed and unpacked. */
  readonly maxImportBytes: number;
  /**
   * Node only: the folder the admin importFromArchive may read archives from (a path outside
   * it is 403). Lambda and Workers read object keys under "imports/" in the bucket instead.
   * @default - unset: importing from a path is refused, saying to set it
   */
  readonly importDir: string | undefined;
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
    admin: c.APINODE_ADMIN === 'on',
    adminKey: c.APINODE_ADMIN_KEY,
    maxImportBytes: c.APINODE_MAX_IMPORT_BYTES,
    importDir: c.APINODE_IMPORT_DIR,
  };
}
