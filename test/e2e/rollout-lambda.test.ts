import type { APIGatewayProxyEventV2, ScheduledEvent as AwsScheduledEvent } from 'aws-lambda';
import type { LambdaEvent } from 'hono/aws-lambda';
import { describe, expect, it } from 'vitest';
import { RolloutState, ServiceConfig } from '@apinode/protocol';
import { silentLogger } from '../../src/observability/logger.js';
import { createLambdaHandler } from '../../src/runtime/lambda-handler.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { ADMIN, fakeClock, shopNode, shopStore, T0 } from '../support/rollout-lab.js';

const MIN = 60_000;
const read = async <T>(store: ObjectStore, key: string, schema: { parse(v: unknown): T }) => schema.parse(JSON.parse(new TextDecoder().decode((await store.get(key))!.body)));

/** What an EventBridge schedule rule (rate(1 minute)) delivers to its target function. */
const scheduled = (time: number): AwsScheduledEvent => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date(time).toISOString().replace(/\.\d+Z$/, 'Z'),
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/apinode-rollouts'],
  detail: {},
});

/** An API Gateway HTTP API (v2) event for a user-API call. */
function httpEvent(path: string, body: unknown): LambdaEvent {
  const text = JSON.stringify(body);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'api123.execute-api.eu-west-1.amazonaws.com', 'content-type': 'application/json', 'content-length': String(text.length) },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api123',
      domainName: 'api123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'api123',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: text,
    isBase64Encoded: false,
  };
  return event as unknown as LambdaEvent;
}

const env = (admin: boolean) => ({ APINODE_ADMIN: admin ? 'on' : 'off', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0', APINODE_QUERY_LOG: 'off' });

describe('guarded rollouts on Lambda', () => {
  it('the user function writes its metric windows at the end of an invocation once due; the admin function advances on the EventBridge event', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const admin = shopNode(store, clock);
    expect((await admin.admin('POST', '/services/shop/rollout', { generation: 'g2', steps: [50, 100], everyS: 600, maxErrorRate: 0.01, minRequests: 10 })).status).toBe(201);

    const user = await createLambdaHandler(env(false), { store, log: silentLogger, now: clock.now });
    const adminFn = await createLambdaHandler(env(true), { store, log: silentLogger, now: clock.now });
    let g2 = 0;
    // g2 fails every call with x = 13; g1 answers it. The flush rides on the invocation's own end.
    for (let i = 0; i < 59; i++) {
      const r = await user(httpEvent('/public/api/v1/shop/double/run', { x: 13 }));
      if (r.statusCode === 500) g2++;
    }
    // Past a minute after start: the invocation that ends then writes the windows due (the first
    // minute's). The mapping splits traffic at random: call until one lands on g2 in that second
    // minute, then once more a minute later, which writes the second minute's window.
    clock.advance(MIN);
    for (let i = 0; i < 200; i++) {
      const r = await user(httpEvent('/public/api/v1/shop/double/run', { x: 13 }));
      if (r.statusCode === 500) {
        g2++;
        break;
      }
    }
    clock.advance(MIN);
    if ((await user(httpEvent('/public/api/v1/shop/double/run', { x: 13 }))).statusCode === 500) g2++;
    expect(g2).toBeGreaterThan(10);
    const written = await store.list('metrics/service=shop/generation=g2/');
    // A window for each minute g2 served in (the third only if the last call went to g2), from this one instance.
    const minute = (t: number) => `minute=${new Date(t).toISOString().slice(0, 16)}`;
    const minutes = written.map((k) => k.split('/')[3]);
    expect(minutes.slice(0, 2)).toEqual([minute(T0), minute(T0 + MIN)]);
    expect(minutes.slice(2)).toEqual(minutes.length === 3 ? [minute(T0 + 2 * MIN)] : []);
    expect(new Set(written.map((k) => k.split('/')[4])).size).toBe(1);

    // The user function ignores the schedule (it may not write service.json); the admin function acts on it.
    expect(await user(scheduled(clock.now()))).toEqual({ rollouts: [] });
    expect((await read(store, layout.rollout('shop'), RolloutState)).phase).toBe('running');
    const out = await adminFn(scheduled(clock.now()));
    expect(out).toEqual({ rollouts: [{ serviceId: 'shop', phase: 'rolled-back', percent: 0 }] });
    const s = await read(store, layout.rollout('shop'), RolloutState);
    expect(s.history.at(-1)).toMatchObject({ action: 'rollback', by: 'scheduler', figures: { requests: g2, serverErrors: g2 } });
    expect((await read(store, layout.service('shop'), ServiceConfig)).mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g1' });
  });
});
