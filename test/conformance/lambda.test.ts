import type { ALBEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { APIGatewayProxyResult, LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { batchedQueryLog, createLambdaHandler } from '../../src/runtime/lambda-handler.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { LocalS3 } from '../s3/s3-server.js';
import { FlakyStore } from '../support/stores.js';
import { ADMIN_ENV, adminConformanceSuite, bucketStaging } from './admin-suite.js';
import { corsConformanceSuite } from './cors-suite.js';
import { oipConformanceSuite } from './oip-suite.js';
import { demoDatabaseOverWebSocket, sqlConformanceSuite } from './sql-suite.js';
import { CONFORMANCE_ENV, DEMO_KEY, conformanceSuite, type Target } from './suite.js';

/**
 * The Lambda entry's exported `handler`, built the way Lambda builds it (module init with
 * top-level await, S3 store from APINODE_S3_*, preload), called with the events API Gateway
 * HTTP APIs, Function URLs and ALBs send, against a real S3-protocol server on loopback.
 */
type Shape = 'API Gateway v2' | 'Function URL' | 'ALB' | 'ALB multi-value';
type Handler = (event: LambdaEvent) => Promise<APIGatewayProxyResult & { multiValueHeaders?: Record<string, string[]>; cookies?: string[] }>;

let s3: LocalS3;
let handler: Handler;
let database: Awaited<ReturnType<typeof demoDatabaseOverWebSocket>> | undefined;
const ready = (async () => {
  s3 = await LocalS3.start();
  await seedDemo(s3.store(), DEMO_KEY);
  // The entry builds its handler at import (Lambda's init phase): the variables come first. The
  // factory module, imported above, has no such side effect.
  database = await demoDatabaseOverWebSocket();
  Object.assign(process.env, CONFORMANCE_ENV, ADMIN_ENV, s3.env, database.env, { APINODE_PRELOAD: 'demo' });
  handler = (await import('../../src/runtime/lambda.js')).handler as Handler;
})();

/** Content types these front doors pass as text; anything else (or none) arrives base64-encoded. */
const TEXT = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

async function toEvent(shape: Shape, path: string, init: RequestInit = {}): Promise<LambdaEvent> {
  const req = new Request(`https://node.test${path}`, init);
  const url = new URL(req.url);
  const raw = new Uint8Array(await req.arrayBuffer());
  const type = req.headers.get('content-type') ?? '';
  const base64 = raw.length > 0 && !TEXT.test(type);
  const body = raw.length === 0 ? undefined : base64 ? Buffer.from(raw).toString('base64') : new TextDecoder().decode(raw);
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  if (shape === 'ALB' || shape === 'ALB multi-value') {
    headers.host = 'node-alb-123.eu-west-1.elb.amazonaws.com';
    // ALB passes query values as received (still URL-encoded).
    const query: Record<string, string> = {};
    for (const part of url.search.slice(1).split('&').filter(Boolean)) {
      const [k, v = ''] = part.split('=');
      query[k!] = v;
    }
    const common = { requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/apinode/abc' } }, httpMethod: req.method, path: url.pathname, body: body ?? '', isBase64Encoded: base64 };
    if (shape === 'ALB') return { ...common, headers, queryStringParameters: query } satisfies ALBEvent;
    const multi = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [v]]));
    return { ...common, multiValueHeaders: multi(headers), multiValueQueryStringParameters: multi(query) } satisfies ALBEvent;
  }
  const domainName = shape === 'Function URL' ? 'abcdefgh.lambda-url.eu-west-1.on.aws' : 'api123.execute-api.eu-west-1.amazonaws.com';
  headers.host = domainName;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: shape === 'Function URL' ? 'anonymous' : '123456789012',
      apiId: domainName.split('.')[0]!,
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: { method: req.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: headers['user-agent'] ?? 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: base64,
  };
  // Typed with @types/aws-lambda (AWS's shape); hono's own type wants requestContext.authorizer, which AWS omits without an authorizer.
  return event as unknown as LambdaEvent;
}

function toResponse(r: Awaited<ReturnType<Handler>>): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers ?? {})) headers.set(k, String(v));
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) for (const v of vs) headers.append(k, v);
  for (const c of r.cookies ?? []) headers.append('set-cookie', c);
  const body = r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body;
  return new Response(r.statusCode === 204 || r.statusCode === 304 ? null : body, { status: r.statusCode, headers });
}

const target = (shape: Shape) => async (): Promise<Target> => {
  await ready;
  return { fetch: async (path, init) => toResponse(await handler(await toEvent(shape, path, init))), close: async () => undefined };
};

afterAll(async () => {
  await s3?.destroy();
  await database?.close();
});

conformanceSuite('Lambda (API Gateway HTTP API v2 events)', target('API Gateway v2'));
conformanceSuite('Lambda (Function URL events)', target('Function URL'));
conformanceSuite('Lambda (ALB events)', target('ALB'));
corsConformanceSuite('Lambda (Function URL events)', target('Function URL'));
oipConformanceSuite('Lambda (API Gateway HTTP API v2 events)', target('API Gateway v2'));
// Archives travel base64-encoded in the events, as API Gateway sends binary bodies; importFromArchive
// reads S3 keys under imports/, which the suite puts there first, as CI would.
adminConformanceSuite('Lambda (API Gateway HTTP API v2 events)', async () => ({ ...(await target('API Gateway v2')()), ...bucketStaging(s3.store()) }));
// Postgres through the Neon driver, as with Neon in production (here over a local WebSocket bridge).
sqlConformanceSuite('Lambda (API Gateway HTTP API v2 events)', target('API Gateway v2'));

describe('the Lambda entry', () => {
  let t: Target;
  beforeAll(async () => {
    t = await target('ALB multi-value')();
  });
  const auth = { Authorization: `Bearer ${DEMO_KEY}` };

  it('answers ALB events with multi-value headers in kind, with the DSS headers', async () => {
    await ready;
    const res = await handler(await toEvent('ALB multi-value', '/isAlive'));
    expect(res.statusCode).toBe(200);
    expect(res.multiValueHeaders?.['dss-version']).toEqual([expect.any(String)]);
  });

  it('decodes base64 bodies and percent-encoded ALB query strings', async () => {
    const res = await t.fetch('/public/api/v1/demo/penguin-species/predict-simple?island=Biscoe&sex=MALE&beak_length_mm=48.6&note=a%20b', { headers: auth });
    expect(res.status).toBe(200);
    const binary = await t.fetch('/public/api/v1/demo/car-mpg/predict', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      body: new TextEncoder().encode(JSON.stringify({ features: { weight_lbs: 3000 } })),
    });
    expect(binary.status).toBe(200);
  });

  it('loads the generations named in APINODE_PRELOAD during init, so first requests need no store', async () => {
    await ready;
    const store = new FlakyStore(s3.store());
    const fresh = await createLambdaHandler({ ...CONFORMANCE_ENV, APINODE_PRELOAD: 'demo' }, { store, log: silentLogger });
    expect(store.reads).toBeGreaterThan(1 + 2 + 3); // service.json, both manifests, every model of both
    store.down = true;
    for (const gen of ['v1', 'v2']) {
      const body = JSON.stringify({ features: { weight_lbs: 3000 }, dispatch: { forcedGeneration: gen } });
      const res = toResponse(await fresh(await toEvent('API Gateway v2', '/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: auth, body })));
      expect(res.status).toBe(200);
    }
  });

  it('refuses to start with a clear error when a preloaded service is unknown or no bucket is set', async () => {
    await ready;
    await expect(createLambdaHandler({ APINODE_PRELOAD: 'nope' }, { store: s3.store(), log: silentLogger })).rejects.toThrow(/APINODE_PRELOAD: service "nope"/);
    await expect(createLambdaHandler({ APINODE_PRELOAD: 'demo/v9' }, { store: s3.store(), log: silentLogger })).rejects.toThrow(/v9/);
    await expect(createLambdaHandler({})).rejects.toThrow(/APINODE_S3_BUCKET/);
  });

  it('writes the query log once per invocation, before the handler returns', async () => {
    await ready;
    const chunks: string[] = [];
    const fresh = await createLambdaHandler({}, { store: s3.store(), log: silentLogger, queryLog: batchedQueryLog((c) => chunks.push(c)) });
    const items = Array.from({ length: 3 }, () => ({ features: { weight_lbs: 3000 } }));
    const res = await fresh(await toEvent('Function URL', '/public/api/v1/demo/car-mpg/predict-multi', { method: 'POST', headers: auth, body: JSON.stringify({ items }) }));
    expect(res.statusCode).toBe(200);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.trim().split('\n').map((l) => JSON.parse(l).endpointId)).toEqual(['car-mpg', 'car-mpg', 'car-mpg']);
  });
});
