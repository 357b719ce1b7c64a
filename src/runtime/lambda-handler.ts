import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle, type APIGatewayProxyResult, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import { createApp, type Ports } from '../app.js';
import { parseConfig } from '../config.js';
import { codePool } from './code-pool.js';
import { packageDocsAssets } from './docs-assets.js';
import { nodeModelRuntime } from './node-models.js';
import { EmfBatch } from '../observability/emf.js';
import { jsonLogger } from '../observability/logger.js';
import { batchedQueryLog } from '../observability/query-log.js';
import { queryLogSinks } from '../observability/query-log-sinks.js';
import type { AdvanceOutcome } from '../rollout/controller.js';
import { parsePreload, preload } from '../services/preload.js';
import { connectionLookup, neonConnections } from '../sql/connections.js';
import { S3ObjectStore, s3OptionsFromEnv } from '../storage/s3-object-store.js';

type Env = Record<string, string | undefined>;
/** API Gateway (v1, v2), Function URL and ALB events; ALB answers carry multiValueHeaders when asked with them. */
export interface LambdaHandler {
  (event: LambdaEvent, context?: LambdaContext): Promise<APIGatewayProxyResult>;
  (event: ScheduledEvent, context?: LambdaContext): Promise<{ rollouts: AdvanceOutcome[] }>;
}

/** What an EventBridge schedule rule sends: the admin function's every-minute pass over the guarded rollouts (docs/rollouts.md). */
export interface ScheduledEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly time?: string;
}
const isScheduledEvent = (e: object): e is ScheduledEvent => (e as Partial<ScheduledEvent>).source === 'aws.events' && (e as Partial<ScheduledEvent>)['detail-type'] === 'Scheduled Event';

/**
 * Builds the node for Lambda: S3 store from APINODE_S3_*, the database URL from Secrets
 * Manager, generations in APINODE_PRELOAD loaded now (in the init phase, not on the first
 * request). Importing this module does nothing; lambda.ts is the deployed entry. Tests pass their own ports.
 */
export async function createLambdaHandler(env: Env, ports: Partial<Ports> = {}): Promise<LambdaHandler> {
  const secretArn = env.APINODE_SQL_SECRET_ARN;
  // The secret becomes the "default" connection, like APINODE_DATABASE_URL would.
  if (secretArn) env = { ...env, APINODE_DATABASE_URL: await readConnectionString(secretArn) };
  // The admin function's bootstrap key, from the secret the CDK stack generates: never in the environment.
  if (env.APINODE_ADMIN_KEY_SECRET_ARN) env = { ...env, APINODE_ADMIN_KEY: await readSecret(env.APINODE_ADMIN_KEY_SECRET_ARN) };
  if (![undefined, 'on', 'off'].includes(env.APINODE_EMF)) throw new Error(`invalid configuration: APINODE_EMF must be "on" or "off", got "${env.APINODE_EMF}"`);
  const config = parseConfig(env);
  // onnxruntime is compiled and started once, here in the init phase (in its model thread), while the rest is set up: not by the first request.
  const models = ports.models ? { models: ports.models, started: Promise.resolve() } : await nodeModelRuntime(config);
  const log = ports.log ?? jsonLogger((line) => process.stderr.write(line + '\n'));
  const webSocket = globalThis.WebSocket ?? (await import('ws')).WebSocket;
  const sql = ports.sql ?? connectionLookup(neonConnections(env, log, { webSocket }));
  const s3 = s3OptionsFromEnv(env);
  if (!ports.store && !s3) throw new Error('invalid configuration: APINODE_S3_BUCKET is required on Lambda');
  const store = ports.store ?? new S3ObjectStore(s3!);
  // No timers: the instance is frozen between invocations. Due batches are stored before the
  // handler returns; the rest waits for a later invocation (docs/query-log.md, what can be lost).
  const queryLogStore = config.queryLogBucket ? new S3ObjectStore({ ...s3, bucket: config.queryLogBucket, prefix: undefined }) : store;
  const queryLog =
    ports.queryLog ??
    queryLogSinks(config, {
      stdout: () => batchedQueryLog((chunk) => process.stdout.write(chunk)),
      store: () => queryLogStore,
      timers: false,
      log,
    });
  // Lambda freezes the instance once the handler returns: background work is awaited instead.
  const tasks: Promise<unknown>[] = [];
  const background = (p: Promise<unknown>) => void tasks.push(p.catch((e: unknown) => log.warn('background task failed', { error: String(e) })));
  const { app, deps } = createApp({ models: models.models, docsAssets: packageDocsAssets(), codeEngine: codePool, queryLogStore, ...ports, store, log, queryLog, background, sql }, config);
  await preload(deps, parsePreload(env.APINODE_PRELOAD));
  await models.started;

  const served = handle(app);
  // CloudWatch embedded metrics (per generation, for dashboards): one line per series an invocation touched.
  const emf = env.APINODE_EMF === 'off' ? null : new EmfBatch();
  if (emf) deps.metrics.listen((...args) => emf.record(...args));
  return (async (event: LambdaEvent | ScheduledEvent, context?: LambdaContext) => {
    if (isScheduledEvent(event)) {
      // Only the admin function may write service.json (its IAM role); a user function ignores the rule.
      if (!config.admin) log.warn('scheduled event ignored: guarded rollouts are advanced by the admin function (APINODE_ADMIN=on)');
      return { rollouts: config.admin ? await deps.rollouts.controller.advanceAll() : [] };
    }
    try {
      return await served(event, context);
    } finally {
      await Promise.all(tasks.splice(0));
      await queryLog.settle();
      const lines = emf?.drain(Date.now()) ?? [];
      if (lines.length) process.stdout.write(lines.join('\n') + '\n');
    }
  }) as LambdaHandler;
}

/** Query log lines buffered for the invocation and written once, before the handler returns (stdout). */
export { batchedQueryLog };

/** A secret's string value, trimmed. */
async function readSecret(secretId: string): Promise<string> {
  const { SecretString: s } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!s?.trim()) throw new Error(`secret ${secretId} has no string value`);
  return s.trim();
}

/** The secret is the connection string itself, or JSON with a `url`/`connectionString` field. */
async function readConnectionString(secretId: string): Promise<string> {
  const s = await readSecret(secretId);
  if (!s.startsWith('{')) return s;
  const parsed = JSON.parse(s) as { url?: string; connectionString?: string };
  const url = parsed.url ?? parsed.connectionString;
  if (!url) throw new Error(`secret ${secretId} is JSON without a "url" or "connectionString" field`);
  return url;
}
