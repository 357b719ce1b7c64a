import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ApiError } from '../errors.js';
import { NOT_MODIFIED, PreconditionFailed, type ObjectStore, type StoredObject, type WriteCondition } from './object-store.js';

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** Prepended to every key, e.g. "prod/". @default - none: keys at the bucket's root */
  readonly prefix?: string;
  /** @default - AWS_REGION, else "us-east-1" */
  readonly region?: string;
  /** S3-compatible stores (R2's S3 API, MinIO, a local test server). @default - AWS S3 */
  readonly endpoint?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and most local servers need. @default false */
  readonly forcePathStyle?: boolean;
  /** @default - the SDK's default chain (Lambda role, env, profile) */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** SDK attempts per call. @default 2: a dead store must fail fast, stale-if-error covers it */
  readonly maxAttempts?: number;
  /** Keys per ListObjectsV2 page. @default 1000 (the S3 maximum) */
  readonly listPageSize?: number;
  /** A ready-made client (tests); the options above are then ignored except bucket and prefix. @default - built from the options */
  readonly client?: S3Client;
}

/**
 * The ObjectStore port on S3 and S3-compatible stores. Checksums are computed and validated
 * only when an operation requires them: R2 and MinIO reject or lack the CRC32 trailers the SDK
 * would otherwise add to every PutObject since v3.729.
 */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly listPageSize: number;

  constructor(opts: S3ObjectStoreOptions) {
    if (!opts.bucket) throw new Error('S3ObjectStore: a bucket name is required');
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, '/') : '';
    this.listPageSize = opts.listPageSize ?? 1000;
    this.client =
      opts.client ??
      new S3Client({
        // Read through globalThis: Workers without nodejs_compat (R2's S3 API) have no `process`.
        region: opts.region ?? (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.AWS_REGION ?? 'us-east-1',
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        forcePathStyle: opts.forcePathStyle ?? false,
        maxAttempts: opts.maxAttempts ?? 2,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
  }

  get(key: string): Promise<StoredObject | null> {
    return this.read(key, undefined) as Promise<StoredObject | null>;
  }

  getIfChanged(key: string, etag: string): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    return this.read(key, etag);
  }

  private async read(key: string, ifNoneMatch: string | undefined): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key), IfNoneMatch: ifNoneMatch }));
      // Streamed to bytes: the model runtime needs the whole file, but never a string copy of it.
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: out.ETag ?? '' };
    } catch (e) {
      const status = statusOf(e);
      if (status === 304) return NOT_MODIFIED;
      if (status === 404 || nameOf(e) === 'NoSuchKey') return null;
      throw unavailable('read', key, e);
    }
  }

  /**
   * Conditions are S3's own If-Match / If-None-Match on PutObject (AWS since 2024, R2's S3 API,
   * MinIO): the check and the write are one step on the server. A failed condition is 412, or
   * 409 ConditionalRequestConflict when two conditional writes overlap, or 404 for If-Match on
   * a key that is gone: all three mean "re-read and try again".
   */
  async put(key: string, body: Uint8Array, condition?: WriteCondition): Promise<string> {
    const conditions = !condition ? {} : 'ifMatch' in condition ? { IfMatch: condition.ifMatch } : { IfNoneMatch: '*' };
    try {
      const out = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: body, ContentLength: body.byteLength, ...conditions }));
      return out.ETag ?? '';
    } catch (e) {
      const status = statusOf(e);
      if (condition && (status === 412 || status === 409 || (status === 404 && 'ifMatch' in condition))) throw new PreconditionFailed(key);
      throw unavailable('write', key, e);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.key(prefix), ContinuationToken: token, MaxKeys: this.listPageSize }));
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(this.prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw unavailable('list', prefix, e);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (e) {
      throw unavailable('delete', key, e);
    }
  }

  private key(key: string): string {
    return this.prefix + key;
  }
}

/** S3 options from APINODE_S3_* variables (region from AWS_REGION); null when no bucket is set. */
export function s3OptionsFromEnv(env: Record<string, string | undefined>): S3ObjectStoreOptions | null {
  const bucket = env.APINODE_S3_BUCKET;
  if (!bucket) return null;
  const pathStyle = env.APINODE_S3_FORCE_PATH_STYLE ?? 'false';
  if (!['true', 'false', 'on', 'off', '1', '0'].includes(pathStyle)) {
    throw new Error(`invalid configuration: APINODE_S3_FORCE_PATH_STYLE must be true or false, got "${pathStyle}"`);
  }
  return {
    bucket,
    prefix: env.APINODE_S3_PREFIX,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    endpoint: env.APINODE_S3_ENDPOINT || undefined,
    forcePathStyle: ['true', 'on', '1'].includes(pathStyle),
  };
}

const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (e: unknown): string | undefined => (e as { name?: string }).name;

function unavailable(op: string, key: string, e: unknown): ApiError {
  // The S3 error code (AccessDenied, SlowDown, ECONNREFUSED...) is safe to show; the message may name the bucket.
  const code = e instanceof S3ServiceException ? `${e.name} (HTTP ${statusOf(e) ?? '?'})` : ((e as { code?: string }).code ?? nameOf(e) ?? 'unknown');
  return ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be read right now', `S3 ${op} of "${key}" failed: ${code}`);
}
