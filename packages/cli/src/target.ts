import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as ort from 'onnxruntime-web';
import { APINodeAdminClient } from '@apinode/client';
import { createApp } from '../../../src/app.js';
import { parseConfig } from '../../../src/config.js';
import { ortModelRuntime } from '../../../src/inference/ort-runtime.js';
import { jsonLogger } from '../../../src/observability/logger.js';
import { discardQueryLog } from '../../../src/observability/query-log.js';
import { FsObjectStore } from '../../../src/storage/fs-object-store.js';
import { UsageError } from './output.js';

export interface TargetOptions {
  url?: string | undefined;
  adminKey?: string | undefined;
  bucket?: string | undefined;
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
    if (/^[a-z0-9]+:\/\//.test(o.bucket) && !o.bucket.startsWith('file://')) {
      throw new UsageError(`unsupported bucket "${o.bucket}"`, 'use a local folder (--bucket ./data)');
    }
    const key = randomBytes(24).toString('hex');
    const store = new FsObjectStore(resolve(o.bucket.replace(/^file:\/\//, '')));
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
