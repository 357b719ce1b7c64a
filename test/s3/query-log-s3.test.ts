import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { createLambdaHandler } from '../../src/runtime/lambda-handler.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoRecords } from '../support/demo-records.js';
import { LocalS3 } from './s3-server.js';

const KEY = 'query-log-s3-key';
const cars = demoRecords(10)['car-mpg']!;

let s3: LocalS3;
beforeAll(async () => {
  s3 = await LocalS3.start();
  await seedDemo(s3.store(), KEY);
});
afterAll(async () => s3?.destroy());

/** A Lambda Function URL event (payload 2.0) for a JSON POST. */
function functionUrlEvent(path: string, body: unknown): LambdaEvent {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, host: 'abc.lambda-url.eu-west-1.on.aws' };
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: headers.host,
      domainPrefix: 'abc',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '02/Dec/2026:05:00:00 +0000',
      timeEpoch: Date.now(),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
  // AWS's shape (@types/aws-lambda); hono's type wants requestContext.authorizer, which AWS omits without one.
  return event as unknown as LambdaEvent;
}

const predict = (handler: Awaited<ReturnType<typeof createLambdaHandler>>) =>
  handler(functionUrlEvent('/public/api/v1/demo/car-mpg/predict-multi', { items: cars.map((features) => ({ features })) }));

async function storedLines(prefix: string) {
  const store = s3.store();
  const keys = await store.list(prefix);
  const lines: { features: unknown; endpointId: string }[] = [];
  for (const key of keys) lines.push(...gunzipSync((await store.get(key))!.body).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l)));
  return { keys, lines };
}

describe('the store query log on Lambda, against a local S3 server', () => {
  it('stores a due batch in the bucket before the handler returns, under the prefix asked for', async () => {
    const prefix = 'logs/due/';
    const handler = await createLambdaHandler({ ...s3.env, APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_PREFIX: prefix, APINODE_QUERY_LOG_FLUSH_S: '0' }, { store: s3.store(), log: silentLogger });
    for (let i = 1; i <= 3; i++) {
      expect((await predict(handler)).statusCode).toBe(200);
      // Nothing awaited after the handler returned: the object is already there.
      const { keys, lines } = await storedLines(prefix);
      expect(keys).toHaveLength(i);
      expect(keys[i - 1]).toMatch(/^logs\/due\/service=demo\/endpoint=car-mpg\/date=\d{4}-\d\d-\d\d\/hour=\d\d\/[0-9a-f]{16}-\d{6}\.ndjson\.gz$/);
      expect(lines.map((l) => l.features)).toEqual(Array.from({ length: i }, () => cars).flat());
    }
  });

  it('keeps a batch that is not due in memory across invocations, then stores it whole', async () => {
    const prefix = 'logs/later/';
    const one = 1024 * 1024;
    const handler = await createLambdaHandler({ ...s3.env, APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_PREFIX: prefix, APINODE_QUERY_LOG_FLUSH_S: '3600', APINODE_QUERY_LOG_FLUSH_BYTES: String(one) }, { store: s3.store(), log: silentLogger });
    for (let i = 0; i < 3; i++) expect((await predict(handler)).statusCode).toBe(200);
    expect((await storedLines(prefix)).keys).toEqual([]);
    // A large invocation fills the batch past its size: stored before that invocation returns.
    const big = cars.map((features) => ({ features: { ...features, note: 'x'.repeat(12_000) } }));
    let sent = 0;
    while ((await storedLines(prefix)).keys.length === 0 && sent < 20) {
      expect((await handler(functionUrlEvent('/public/api/v1/demo/car-mpg/predict-multi', { items: big }))).statusCode).toBe(200);
      sent++;
    }
    const { lines } = await storedLines(prefix);
    expect(sent).toBeGreaterThan(1);
    expect(lines.slice(0, 30).map((l) => l.features)).toEqual([...cars, ...cars, ...cars]);
  });

  it('answers while the bucket is unreachable; the delay a due batch adds is bounded', async () => {
    const handler = await createLambdaHandler({ ...s3.env, APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_PREFIX: 'logs/down/', APINODE_QUERY_LOG_FLUSH_S: '0', APINODE_PRELOAD: 'demo' }, { store: s3.store(), log: silentLogger });
    expect((await predict(handler)).statusCode).toBe(200);
    await s3.stop();
    try {
      const t0 = performance.now();
      const res = await predict(handler);
      const ms = performance.now() - t0;
      expect(res.statusCode).toBe(200);
      expect(ms).toBeLessThan(5_000);
      console.log(`Lambda invocation with the bucket down (due batch given up): ${Math.round(ms)} ms`);
    } finally {
      await s3.start();
    }
  }, 30_000);
});
