import { serve } from '@hono/node-server';
import { pathToFileURL } from 'node:url';
import { createApp } from '../app.js';
import { parseConfig } from '../config.js';
import { nodeModelRuntime } from './node-models.js';
import { jsonLogger } from '../observability/logger.js';
import { lineQueryLog } from '../observability/query-log.js';
import { queryLogSinks } from '../observability/query-log-sinks.js';
import { FsObjectStore } from '../storage/fs-object-store.js';
import type { Rollouts } from '../rollout/rollouts.js';
import { codePool } from './code-pool.js';
import { packageDocsAssets } from './docs-assets.js';
import { seedDemo } from './node-demo.js';
import { folderImports } from './node-import.js';
import { nodeSql } from './node-sql.js';

export interface NodeServer {
  readonly url: string;
  readonly demoKey: string | null;
  readonly admin: boolean;
  close(): Promise<void>;
}

/** Starts the node on Node: local-folder store (APINODE_DATA_DIR), demo seeded unless APINODE_DEMO=off. */
export async function start(env: Record<string, string | undefined>): Promise<NodeServer> {
  // Locally, giving an admin key is enough to turn the admin API on.
  const config = parseConfig({ APINODE_ADMIN: env.APINODE_ADMIN_KEY ? 'on' : 'off', ...env });
  // onnxruntime starts now (in its thread), while the node loads and listens, not in the first predict.
  const models = await nodeModelRuntime(config);
  const log = jsonLogger((line) => process.stderr.write(line + '\n'));
  // S3 (or MinIO, R2's S3 API) when a bucket is named; the SDK is only loaded then.
  const s3 = env.APINODE_S3_BUCKET ? await import('../storage/s3-object-store.js') : null;
  const store = s3 ? new s3.S3ObjectStore(s3.s3OptionsFromEnv(env)!) : new FsObjectStore(env.APINODE_DATA_DIR ?? './data');
  const demo = env.APINODE_DEMO === 'off' ? null : await seedDemo(store, env.APINODE_DEMO_KEY);
  const queryLogStore = config.queryLogDir ? new FsObjectStore(config.queryLogDir) : store;
  const queryLog = queryLogSinks(config, {
    stdout: () => lineQueryLog((chunk) => process.stdout.write(chunk)),
    store: () => queryLogStore,
    timers: true,
    log,
  });
  const db = nodeSql(env, log, demo !== null);
  const imports = folderImports(config.importDir);
  const { app, deps } = createApp({ store, models: models.models, queryLog, log, sql: db.sql, imports, docsAssets: packageDocsAssets(), codeEngine: codePool, queryLogStore }, config);
  const rollouts = rolloutTimers(deps.rollouts, config.admin, config.metricWindowsEveryS);

  const hostname = env.HOST ?? '127.0.0.1';
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: Number(env.PORT ?? 12000), hostname }, (info) => {
      resolve({
        url: `http://${hostname}:${info.port}`,
        demoKey: demo?.key ?? null,
        admin: config.admin,
        // Buffered query-log batches are delivered once the last request is answered.
        close: () => new Promise((done) => server.close(() => void rollouts.stop().then(() => queryLog.flush()).then(() => db.close()).then(() => models.close()).then(done))),
      });
    });
  });
}

/**
 * This instance's metric windows are written every APINODE_METRIC_WINDOWS_EVERY_S, traffic or
 * not, and where the admin API is on the guarded rollouts are checked every minute
 * (docs/rollouts.md). Lambda and Workers are woken by a schedule instead.
 */
function rolloutTimers(rollouts: Rollouts, admin: boolean, everyS: number): { stop(): Promise<void> } {
  const flush = setInterval(() => void rollouts.windows?.flushIfDue(), everyS * 1000);
  const check = setInterval(() => void (admin && rollouts.controller.advanceAll().catch(() => undefined)), 60_000);
  flush.unref();
  check.unref();
  return { stop: async () => (clearInterval(flush), clearInterval(check), await rollouts.windows?.flush()) };
}

function banner(url: string, key: string | null, admin: boolean): string {
  const lines = [`apinode listening on ${url}`];
  lines.push(admin ? `admin API on ${url}/admin/api (npx apinode-admin --url ${url} --admin-key …)` : 'admin API off (set APINODE_ADMIN_KEY to turn it on)');
  if (key) {
    lines.push(
      `demo service "demo" (generations v1 70%, v2 30%), API key: ${key}`,
      'try:',
      `  curl -u ${key}: ${url}/public/api/v1/demo/penguin-species/predict \\`,
      `    -d '{"features": {"island": "Biscoe", "beak_length_mm": 48.6, "beak_depth_mm": 16, "flipper_length_mm": 230, "body_mass_g": 5800, "sex": "MALE"}}'`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const node = await start(process.env);
  console.log(banner(node.url, node.demoKey, node.admin));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void node.close().then(() => process.exit(0)));
}
