import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as ort from 'onnxruntime-web';
import { APINodeAdminClient } from '@apinode/client';
import { createApp } from '@apinode/node/app';
import { parseConfig } from '@apinode/node/config';
import { ortModelRuntime } from '@apinode/node/inference/ort-runtime';
import { jsonLogger } from '@apinode/node/observability/logger';
import { discardQueryLog } from '@apinode/node/observability/query-log';
import { FsObjectStore } from '@apinode/node/storage/fs-object-store';
import type { ObjectStore } from '@apinode/node/storage/object-store';
import { S3ObjectStore, s3OptionsFromEnv } from '@apinode/node/storage/s3-object-store';
import { UsageError } from './output.js';

export interface TargetOptions {
  url?: string | undefined;
  adminKey?: string | undefined;
  bucket?: string | undefined;
}

/**
 * A local folder (./data, file://…) or an S3-protocol bucket: s3://bucket/prefix, with the
 * usual AWS credentials and, for R2's S3 API or MinIO, APINODE_S3_ENDPOINT and
 * APINODE_S3_FORCE_PATH_STYLE.
 */
function bucketStore(bucket: string): ObjectStore {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(bucket);
  if (s3) {
    const opts = s3OptionsFromEnv({ ...process.env, APINODE_S3_BUCKET: s3[1], APINODE_S3_PREFIX: s3[2] || undefined });
    return new S3ObjectStore(opts!);
  }
  if (/^[a-z0-9]+:\/\//.test(bucket) && !bucket.startsWith('file://')) {
    throw new UsageError(`unsupported bucket "${bucket}"`, 'use a local folder (--bucket ./data) or s3://bucket/prefix (R2 through its S3 API with APINODE_S3_ENDPOINT)');
  }
  return new FsObjectStore(resolve(bucket.replace(/^file:\/\//, '')));
}

export const modelRuntime = () => {
  ort.env.wasm.numThreads = 1;
  return ortModelRuntime(ort);
};

/**
 * The admin client for the chosen target: a running node's admin API (--url, --admin-key),
 * or a bucket directly (--bucket ./data): then the same admin API runs in this process on
 * that store, so both paths validate and write exactly alike. Audit lines go to stderr.
 */
export function adminClient(o: TargetOptions): APINodeAdminClient {
  if (o.bucket) {
    const key = randomBytes(24).toString('hex');
    const store = bucketStore(o.bucket);
    const log = jsonLogger((line) => process.stderr.write(process.env.APINODE_CLI_AUDIT === 'off' ? '' : line + '\n'));
    const { app } = createApp(
      { store, models: modelRuntime(), queryLog: discardQueryLog, log },
      parseConfig({ APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: key, APINODE_CONFIG_TTL_S: '0', APINODE_MAX_BODY_BYTES: String(1024 ** 3) }),
    );
    return new APINodeAdminClient('http://bucket.local', key, { fetch: (r) => Promise.resolve(app.fetch(r)) });
  }
  const url = o.url ?? process.env.APINODE_URL;
  const key = o.adminKey ?? process.env.APINODE_ADMIN_KEY;
  if (!url) throw new UsageError('no target: say which node or bucket to manage', 'pass --url http://host:port (or APINODE_URL), or --bucket ./data');
  if (!key) throw new UsageError('no admin key', 'pass --admin-key or set APINODE_ADMIN_KEY');
  return new APINodeAdminClient(url, key);
}
