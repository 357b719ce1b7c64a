import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle, type APIGatewayProxyResult, type LambdaContext, type LambdaEvent } from 'hono/aws-lambda';
import * as ort from 'onnxruntime-web';
import { createApp, type Ports } from '../app.js';
import { parseConfig } from '../config.js';
import { packageDocsAssets } from './docs-assets.js';
import { ortModelRuntime } from '../inference/ort-runtime.js';
import { jsonLogger } from '../observability/logger.js';
import type { QueryLogSink } from '../observability/query-log.js';
import { parsePreload, preload } from '../services/preload.js';
import { connectionLookup, neonConnections } from '../sql/connections.js';
import { S3ObjectStore, s3OptionsFromEnv } from '../storage/s3-object-store.js';

type Env = Record<string, string | undefined>;
/** API Gateway (v1, v2), Function URL and ALB events; ALB answers carry multiValueHeaders when asked with them. */
export type LambdaHandler = (event: LambdaEvent, context?: LambdaContext) => Promise<APIGatewayProxyResult>;

/**
 * Builds the node for Lambda: S3 store from APINODE_S3_*, the database URL from Secrets
 * Manager, generations in APINODE_PRELOAD loaded now (in the init phase, not on the first
 * request). Importing this module does nothing; lambda.ts is the deployed entry. Tests pass their own ports.
 */
export async function createLambdaHandler(env: Env, ports: Partial<Ports> = {}): Promise<LambdaHandler> {
  ort.env.wasm.numThreads = 1;
  const secretArn = env.APINODE_SQL_SECRET_ARN;
  // The secret becomes the "default" connection, like APINODE_DATABASE_URL would.
  if (secretArn) env = { ...env, APINODE_DATABASE_URL: await readConnectionString(secretArn) };
  const config = parseConfig(env);
  const log = ports.log ?? jsonLogger((line) => process.stderr.write(line + '\n'));
  const webSocket = globalThis.WebSocket ?? (await import('ws')).WebSocket;
  const sql = ports.sql ?? connectionLookup(neonConnections(env, log, { webSocket }));
  const s3 = s3OptionsFromEnv(env);
  if (!ports.store && !s3) throw new Error('invalid configuration: APINODE_S3_BUCKET is required on Lambda');
  const store = ports.store ?? new S3ObjectStore(s3!);
  const queryLog = ports.queryLog ?? batchedQueryLog((chunk) => process.stdout.write(chunk));
  // Lambda freezes the instance once the handler returns: background work is awaited instead.
  const tasks: Promise<unknown>[] = [];
  const background = (p: Promise<unknown>) => void tasks.push(p.catch((e: unknown) => log.warn('background task failed', { error: String(e) })));
  const { app, deps } = createApp({ models: ortModelRuntime(ort), docsAssets: packageDocsAssets(), ...ports, store, log, queryLog, background, sql }, config);
  await preload(deps, parsePreload(env.APINODE_PRELOAD));

  const served = handle(app);
  return async (event, context) => {
    try {
      return await served(event, context);
    } finally {
      await Promise.all(tasks.splice(0));
      await queryLog.flush();
    }
  };
}

/** Query log lines buffered for the invocation and written once, before the handler returns. */
export function batchedQueryLog(write: (chunk: string) => void): QueryLogSink {
  let buffer = '';
  return {
    write(entries) {
      for (const e of entries) buffer += JSON.stringify(e) + '\n';
    },
    async flush() {
      if (buffer) write(buffer);
      buffer = '';
    },
  };
}

/** The secret is the connection string itself, or JSON with a `url`/`connectionString` field. */
async function readConnectionString(secretId: string): Promise<string> {
  const { SecretString: s } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!s) throw new Error(`secret ${secretId} has no string value`);
  if (!s.trimStart().startsWith('{')) return s.trim();
  const parsed = JSON.parse(s) as { url?: string; connectionString?: string };
  const url = parsed.url ?? parsed.connectionString;
  if (!url) throw new Error(`secret ${secretId} is JSON without a "url" or "connectionString" field`);
  return url;
}
