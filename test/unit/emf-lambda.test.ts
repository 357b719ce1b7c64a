import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { APIGatewayProxyResult, LambdaEvent } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { discardQueryLog } from '../../src/observability/query-log.js';
import { createLambdaHandler } from '../../src/runtime/lambda-handler.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { tempStore } from '../support/stores.js';

/**
 * The Lambda handler's embedded metrics and its bootstrap admin key from Secrets Manager, with
 * the events a Function URL sends and the real AWS SDK talking to a stand-in for Secrets Manager
 * on loopback (AWS itself is the one thing faked).
 */
const KEY = 'emf-test-demo-key';
const PENGUIN = { island: 'Biscoe', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' };
type Handler = (event: LambdaEvent) => Promise<APIGatewayProxyResult>;

/** A Function URL event (payload format 2.0), as Lambda hands it to the handler. */
function functionUrlEvent(method: string, path: string, body?: unknown, auth = `Basic ${btoa(`${KEY}:`)}`): APIGatewayProxyEventV2 {
  const domainName = 'abcdefgh.lambda-url.eu-west-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: domainName, authorization: auth, 'content-type': 'application/json' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefgh',
      domainName,
      domainPrefix: 'abcdefgh',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

/** Calls the handler and returns its answer and the EMF lines it wrote to stdout meanwhile. */
async function call(handler: Handler, event: APIGatewayProxyEventV2): Promise<{ res: APIGatewayProxyResult; emf: Record<string, unknown>[]; ms: number }> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  const t0 = performance.now();
  try {
    const res = await handler(event as unknown as LambdaEvent);
    const ms = performance.now() - t0;
    const emf = written.join('').split('\n').filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { res, emf, ms };
  } finally {
    spy.mockRestore();
  }
}

async function demoStore(): Promise<ObjectStore> {
  const { store } = await tempStore();
  await seedDemo(store, KEY);
  // All traffic to v2, so that the generation of each line is known beforehand.
  const config = JSON.parse(new TextDecoder().decode((await store.get(layout.service('demo')))!.body)) as Record<string, unknown>;
  await store.put(layout.service('demo'), new TextEncoder().encode(JSON.stringify({ ...config, mapping: { mode: 'SINGLE_GENERATION', generation: 'v2' } })));
  return store;
}

describe('the Lambda handler writes CloudWatch embedded metrics per invocation', () => {
  let store: ObjectStore;
  let handler: Handler;
  beforeAll(async () => {
    store = await demoStore();
    handler = (await createLambdaHandler({ APINODE_CONFIG_TTL_S: '0' }, { store, log: silentLogger, queryLog: discardQueryLog })) as Handler;
  });

  it('one line for a scored request: its service, endpoint, generation, and a latency within the call\'s own duration', async () => {
    const { res, emf, ms } = await call(handler, functionUrlEvent('POST', '/public/api/v1/demo/penguin-species/predict', { features: PENGUIN }));
    expect(res.statusCode).toBe(200);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Service: 'demo', Endpoint: 'penguin-species', Generation: 'v2', Requests: 1, Errors: 0, ClientErrors: 0 });
    expect(emf[0]!.Latency).toBeGreaterThan(0);
    expect(emf[0]!.Latency).toBeLessThanOrEqual(ms);
  });

  it('a bad record is a client error; a generation whose model file was tampered with is a server error', async () => {
    const bad = await call(handler, functionUrlEvent('POST', '/public/api/v1/demo/penguin-species/predict', { features: { ...PENGUIN, beak_length_mm: 'long' } }));
    expect(bad.res.statusCode).toBe(400);
    expect(bad.emf).toEqual([expect.objectContaining({ Generation: 'v2', Requests: 1, Errors: 0, ClientErrors: 1 })]);

    // GIVEN v2's car-mpg model replaced in the bucket (its manifest's SHA-256 no longer matches)
    await store.put(layout.file('demo', 'v2', 'models/car-mpg.onnx'), new Uint8Array([1, 2, 3]));
    const broken = await call(handler, functionUrlEvent('POST', '/public/api/v1/demo/car-mpg/predict', { features: { cylinders: 4, displacement: 97, horsepower: 88, weight_lbs: 2130, acceleration: 14.5, origin: 'Japan' } }));
    expect(broken.res.statusCode).toBeGreaterThanOrEqual(500);
    expect(broken.emf).toEqual([expect.objectContaining({ Endpoint: 'car-mpg', Generation: 'v2', Requests: 1, Errors: 1, ClientErrors: 0 })]);
  });

  it('nothing for what reached no generation (unknown service, refused key), and no Endpoint dimension for an invented endpoint', async () => {
    expect((await call(handler, functionUrlEvent('POST', '/public/api/v1/nope/x/predict', { features: PENGUIN }))).emf).toEqual([]);
    const refused = await call(handler, functionUrlEvent('POST', '/public/api/v1/demo/penguin-species/predict', { features: PENGUIN }, `Basic ${btoa('wrong-key:')}`));
    expect(refused.res.statusCode).toBe(401);
    expect(refused.emf).toEqual([]);
    const invented = await call(handler, functionUrlEvent('POST', '/public/api/v1/demo/made-up-endpoint/predict', { features: PENGUIN }));
    expect(invented.res.statusCode).toBe(404);
    expect(invented.emf).toEqual([expect.objectContaining({ _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Dimensions: [['Service', 'Generation']] })] }) })]);
  });

  it('APINODE_EMF=off writes none; any other value stops the init with the variable named', async () => {
    const quiet = (await createLambdaHandler({ APINODE_EMF: 'off' }, { store, log: silentLogger, queryLog: discardQueryLog })) as Handler;
    const { res, emf } = await call(quiet, functionUrlEvent('POST', '/public/api/v1/demo/penguin-species/predict', { features: PENGUIN }));
    expect(res.statusCode).toBe(200);
    expect(emf).toEqual([]);
    await expect(createLambdaHandler({ APINODE_EMF: 'yes' }, { store, log: silentLogger, queryLog: discardQueryLog })).rejects.toThrow('APINODE_EMF must be "on" or "off", got "yes"');
  });
});

describe('the admin function reads its bootstrap key from Secrets Manager at init', () => {
  const SECRET = 'gEnErAtEd0bootstrap0key0of048chars0xxxxxxxxxxxxxx';
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:apinode/admin-key-AbCdEf';
  let server: Server;
  const asked: unknown[] = [];
  const saved = { ...process.env };
  beforeAll(async () => {
    // Secrets Manager's JSON protocol, for the one call the handler makes.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        asked.push({ target: req.headers['x-amz-target'], SecretId });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (SecretId !== ARN) return void res.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        res.end(JSON.stringify({ ARN, Name: 'apinode/admin-key', SecretString: SECRET }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-example',
    });
  });
  afterAll(() => {
    for (const k of ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
    server.close();
  });

  it('accepts the key the secret holds, and nothing else', async () => {
    const { store } = await tempStore();
    const handler = (await createLambdaHandler({ APINODE_ADMIN: 'on', APINODE_ADMIN_KEY_SECRET_ARN: ARN }, { store, log: silentLogger, queryLog: discardQueryLog })) as Handler;
    expect(asked).toEqual([{ target: 'secretsmanager.GetSecretValue', SecretId: ARN }]);
    expect((await call(handler, functionUrlEvent('GET', '/admin/api/services', undefined, `Bearer ${SECRET}`))).res.statusCode).toBe(200);
    expect((await call(handler, functionUrlEvent('GET', '/admin/api/services', undefined, `Bearer ${SECRET.slice(0, -1)}y`))).res.statusCode).toBe(401);
  });

  it('stops the init when the secret cannot be read', async () => {
    const { store } = await tempStore();
    await expect(createLambdaHandler({ APINODE_ADMIN: 'on', APINODE_ADMIN_KEY_SECRET_ARN: `${ARN}-other` }, { store, log: silentLogger, queryLog: discardQueryLog })).rejects.toThrow(/not found|ResourceNotFound/);
  });
});
