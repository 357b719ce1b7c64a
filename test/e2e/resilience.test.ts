import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { FlakyStore, json, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const KEY = 'resilience-key';
const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(5);

async function setup(env: Record<string, string> = {}) {
  const { store: inner } = await tempStore();
  await seedDemo(inner, KEY);
  const store = new FlakyStore(inner);
  let now = 0;
  const t = testApp(store, env, { now: () => now });
  const predict = (endpoint: string, body: unknown, headers: Record<string, string> = auth) =>
    t.app.request(`/public/api/v1/demo/${endpoint}/predict`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { ...t, inner, store, predict, advance: (ms: number) => (now += ms) };
}

describe('the node under failure', () => {
  it('keeps serving loaded generations while the object store is down', async () => {
    const t = await setup();
    const features = records['car-mpg']![0]!;
    expect((await t.predict('car-mpg', { features, dispatch: { forcedGeneration: 'v1' } })).status).toBe(200);
    t.store.down = true;
    t.advance(3_600_000); // service.json is long stale: the last good copy serves
    const res = await t.predict('car-mpg', { features, dispatch: { forcedGeneration: 'v1' } });
    expect(res.status).toBe(200);
  });

  it('answers 503 STORE_UNAVAILABLE for what is not loaded yet while the store is down, and recovers', async () => {
    const t = await setup();
    t.store.down = true;
    const res = await t.predict('car-mpg', { features: records['car-mpg']![0]! });
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).errorType).toBe('STORE_UNAVAILABLE');
    t.store.down = false;
    expect((await t.predict('car-mpg', { features: records['car-mpg']![0]! })).status).toBe(200);
  });

  it('loads a generation once for concurrent first requests', async () => {
    const t = await setup();
    const body = { features: records['penguin-species']![0]!, dispatch: { forcedGeneration: 'v2' } };
    const answers = await Promise.all(Array.from({ length: 12 }, () => t.predict('penguin-species', body)));
    expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
    // one service.json read, one manifest read, one model read, one explanation background read
    expect(t.store.reads).toBe(4);
  });

  it('serves correctly when the model cache is too small to hold every model (eviction, reload)', async () => {
    const t = await setup({ APINODE_MODEL_CACHE_BYTES: '1' });
    const first: Json[] = [];
    for (const round of [0, 1]) {
      for (const [i, endpoint] of ['penguin-species', 'flight-delayed', 'car-mpg'].entries()) {
        const res = await t.predict(endpoint, { features: records[endpoint]![1]!, dispatch: { forcedGeneration: 'v2' } });
        expect(res.status).toBe(200);
        const result = ((await res.json()) as Json).result;
        if (round === 0) first[i] = result;
        else expect(result).toEqual(first[i]);
      }
    }
    expect(t.deps.generations.models.size).toBe(1);
  });

  it('answers 503 SERVICE_DISABLED for a disabled service after checking the key', async () => {
    const t = await setup();
    const cfg = JSON.parse(new TextDecoder().decode((await t.inner.get('services/demo/service.json'))!.body));
    await t.inner.put('services/demo/service.json', json({ ...cfg, enabled: false }));
    expect((await t.predict('car-mpg', { features: {} }, {})).status).toBe(401);
    const res = await t.predict('car-mpg', { features: {} });
    expect(res.status).toBe(503);
    expect(((await res.json()) as Json).errorType).toBe('SERVICE_DISABLED');
  });

  it('answers a clear 500 for a broken generation and keeps the others serving', async () => {
    const t = await setup();
    await t.inner.put('services/demo/generations/v2/models/car-mpg.onnx', new TextEncoder().encode('not a model'));
    const broken = await t.predict('car-mpg', { features: records['car-mpg']![0]!, dispatch: { forcedGeneration: 'v2' } });
    expect(broken.status).toBe(500);
    const body = (await broken.json()) as Json;
    expect(body.errorType).toBe('MODEL_LOAD_FAILED');
    expect(body.message).toMatch(/car-mpg.*v2/);
    expect((await t.predict('car-mpg', { features: records['car-mpg']![0]!, dispatch: { forcedGeneration: 'v1' } })).status).toBe(200);
    expect((await t.predict('flight-delayed', { features: records['flight-delayed']![0]!, dispatch: { forcedGeneration: 'v2' } })).status).toBe(200);
  });
});

describe('the query log', () => {
  it('writes one line per scored record with the caller label, never the key', async () => {
    const t = await setup();
    const items = records['car-mpg']!.slice(0, 3).map((features) => ({ features, context: { origin: 'test' } }));
    const res = await t.app.request('/public/api/v1/demo/car-mpg/predict-multi', { method: 'POST', headers: auth, body: JSON.stringify({ items }) });
    const body = (await res.json()) as Json;
    expect(t.logged).toHaveLength(3);
    expect(t.logged[1]).toMatchObject({
      v: 1,
      action: 'predict-multi',
      record: 1,
      status: 'ok',
      serviceId: 'demo',
      endpointId: 'car-mpg',
      generation: body.apiContext.serviceGeneration,
      caller: 'demo',
      features: items[1]!.features,
      context: { origin: 'test' },
      result: body.results[1],
      timing: body.timing,
    });
    expect(JSON.stringify(t.logged)).not.toContain(KEY);
  });

  it('is off when APINODE_QUERY_LOG=off', async () => {
    const t = await setup({ APINODE_QUERY_LOG: 'off' });
    await t.predict('car-mpg', { features: records['car-mpg']![0]! });
    expect(t.logged).toHaveLength(0);
  });
});

describe('request bodies', () => {
  const stream = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(ctrl) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 1000) ctrl.enqueue(bytes.subarray(i, i + 1000));
        ctrl.close();
      },
    });
  const send = (t: Awaited<ReturnType<typeof setup>>, text: string) =>
    t.app.request('/public/api/v1/demo/car-mpg/predict-multi', { method: 'POST', headers: auth, body: stream(text), duplex: 'half' } as RequestInit);

  it('reads a chunked body without Content-Length', async () => {
    const t = await setup();
    const res = await send(t, JSON.stringify({ items: [{ features: records['car-mpg']![0]! }] }));
    expect(res.status).toBe(200);
  });

  it('cuts a chunked body off at the limit with 413', async () => {
    const t = await setup({ APINODE_MAX_BODY_BYTES: '5000' });
    const res = await send(t, JSON.stringify({ items: Array.from({ length: 200 }, () => ({ features: records['car-mpg']![0]! })) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).errorType).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('preloading', () => {
  it('loads every model of a generation before the first request', async () => {
    const t = await setup();
    await t.deps.generations.preload('demo', 'v2');
    // penguin-species, flight-delayed, car-mpg, penguin-clusters, car-mpg-by-name, stock-forecast, car-eco-tuning; none for SQL/lookup
    expect(t.deps.generations.models.size).toBe(7);
    await expect(t.deps.generations.preload('demo', 'v9')).rejects.toMatchObject({ status: 404 });
  });
});
