import { beforeEach, describe, expect, it } from 'vitest';
import { packTarGz } from '../../src/services/archive.js';
import { jsonLogger } from '../../src/observability/logger.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const ADMIN = 'admin-bootstrap-key-0123456789';
const admin = { Authorization: `Basic ${btoa(`${ADMIN}:`)}` };
const car = demoRecords(3)['car-mpg']![0]!;

let t: Awaited<ReturnType<typeof setup>>;

async function setup() {
  const { store } = await tempStore();
  await seedDemo(store, 'demo-key');
  const audit: Json[] = [];
  const log = jsonLogger((line) => audit.push(JSON.parse(line)));
  const built = testApp(store, { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0' }, { log });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) => {
    const init: RequestInit = { method, headers };
    if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const res = await built.app.request(`/admin/api${path}`, init);
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as Json) : await res.text() } as { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const predict = (service: string, key: string | null, extra: Json = {}) =>
    built.app.request(`/public/api/v1/${service}/car-mpg/predict`, {
      method: 'POST',
      headers: key ? { Authorization: `Bearer ${key}` } : {},
      body: JSON.stringify({ features: car, ...extra }),
    });
  const importGen = async (service: string, gen: string, createdAt: string, edit?: (m: Json) => void) =>
    call('POST', `/services/${service}/generations`, packTarGz(await demoGenerationAs('v1', gen, createdAt, edit)));
  return { ...built, store, audit, call, predict, importGen };
}

beforeEach(async () => {
  t = await setup();
});

describe('admin API access', () => {
  it('answers 401 without an admin key, and never accepts a service key', async () => {
    expect((await t.call('GET', '/services', undefined, {})).status).toBe(401);
    expect((await t.call('GET', '/services', undefined, { Authorization: 'Bearer demo-key' })).status).toBe(401);
    expect((await t.call('GET', '/services')).status).toBe(200);
  });

  it('is not mounted unless enabled', async () => {
    const { store } = await tempStore();
    const off = testApp(store, { APINODE_ADMIN_KEY: ADMIN });
    expect((await off.app.request('/admin/api/services', { headers: admin })).status).toBe(404);
  });

  it('manages admin keys: a new key works, a revoked one stops working at once', async () => {
    const created = await t.call('POST', '/keys', { label: 'ci' });
    expect(created.status).toBe(201);
    const ci = { Authorization: `Bearer ${created.body.key}` };
    expect((await t.call('GET', '/keys', undefined, ci)).body.keys).toEqual([{ label: 'ci', createdAt: expect.any(String), hashPrefix: expect.any(String) }]);
    expect((await t.call('DELETE', '/keys/ci')).status).toBe(200);
    expect((await t.call('GET', '/keys', undefined, ci)).status).toBe(401);
  });
});

describe('service lifecycle', () => {
  it('creates a service, imports generations, maps, switches, rolls back and deletes', async () => {
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(201);
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(409);

    const g1 = await t.importGen('shop', 'g1', '2026-11-01T00:00:00Z');
    expect(g1.status).toBe(201);
    expect(g1.body).toMatchObject({ serviceId: 'shop', generation: 'g1', endpoints: expect.arrayContaining(['penguin-species', 'flight-delayed', 'car-mpg', 'cars-by-origin', 'car-specs', 'car-mpg-by-name', 'stock-forecast', 'car-eco-tuning']) });
    expect(g1.body.examplesChecked).toBeGreaterThan(0);
    expect((await t.importGen('shop', 'g2', '2026-11-02T00:00:00Z')).status).toBe(201);
    expect((await t.importGen('shop', 'g1', '2026-11-03T00:00:00Z')).status).toBe(409);

    const key = (await t.call('POST', '/services/shop/keys', { label: 'app' })).body.key as string;
    expect((await t.predict('shop', key)).status).toBe(503); // no mapping yet

    const split = await t.call('POST', '/services/shop/actions/setMapping', { entries: [{ generation: 'g1', proba: 0.5 }, { generation: 'g2', proba: 0.5 }] });
    expect(split.status).toBe(200);
    expect(split.body.enabled).toBe(true);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add((await t.predict('shop', key)).headers.get('x-apinode-generation')!);
    expect(seen).toEqual(new Set(['g1', 'g2']));

    expect((await t.call('POST', '/services/shop/actions/switchToNewest')).body.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g2' });
    expect((await t.predict('shop', key)).headers.get('x-apinode-generation')).toBe('g2');
    // roll back
    expect((await t.call('POST', '/services/shop/actions/switchTo/g1')).status).toBe(200);
    expect((await t.predict('shop', key)).headers.get('x-apinode-generation')).toBe('g1');

    const gens = (await t.call('GET', '/services/shop/generations')).body.generations as Json[];
    expect(gens.map((g) => [g.generation, g.proba])).toEqual([['g1', 1], ['g2', 0]]);

    expect((await t.call('POST', '/services/shop/actions/disable')).status).toBe(200);
    expect((await t.predict('shop', key)).status).toBe(503);
    expect((await t.call('POST', '/services/shop/actions/enable')).status).toBe(200);
    expect((await t.predict('shop', key)).status).toBe(200);

    expect((await t.call('DELETE', '/services/shop')).status).toBe(200);
    expect((await t.predict('shop', key)).status).toBe(404);
    expect(await t.store.list('services/shop/')).toEqual([]);
  });

  it('refuses a mapping to an uncommitted generation, or one whose probas do not sum to 1', async () => {
    await t.call('POST', '/services', { serviceId: 's' });
    await t.importGen('s', 'g1', '2026-11-01T00:00:00Z');
    const missing = await t.call('POST', '/services/s/actions/setMapping', { entries: [{ generation: 'g1', proba: 0.5 }, { generation: 'ghost', proba: 0.5 }] });
    expect(missing.status).toBe(409);
    expect(missing.body.message).toContain('ghost');
    expect((await t.call('POST', '/services/s/actions/setMapping', { entries: [{ generation: 'g1', proba: 0.7 }] })).status).toBe(400);
    expect((await t.call('POST', '/services/s/actions/switchTo/ghost')).status).toBe(409);
  });

  it('adds, lists (without secrets) and revokes service keys', async () => {
    const created = await t.call('POST', '/services/demo/keys', { label: 'partner' });
    expect((await t.predict('demo', created.body.key)).status).toBe(200);
    const list = await t.call('GET', '/services/demo/keys');
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(list.body.keys.map((k: Json) => k.label)).toContain('partner');
    expect((await t.call('DELETE', '/services/demo/keys/partner')).status).toBe(200);
    expect((await t.predict('demo', created.body.key)).status).toBe(401);
    expect((await t.call('DELETE', '/services/demo/keys/partner')).status).toBe(404);
  });

  it('switches a service to PUBLIC and back', async () => {
    expect((await t.call('POST', '/services/demo/actions/setAuth', { method: 'PUBLIC' })).status).toBe(200);
    expect((await t.predict('demo', null)).status).toBe(200);
    await t.call('POST', '/services/demo/actions/setAuth', { method: 'API_KEYS' });
    expect((await t.predict('demo', null)).status).toBe(401);
  });

  it('writes an audit line per change, naming the admin key label and never a key', async () => {
    await t.call('POST', '/services', { serviceId: 'audited' });
    const key = (await t.call('POST', '/services/audited/keys', { label: 'k' })).body.key;
    const lines = t.audit.filter((l) => l.msg === 'audit');
    expect(lines.map((l) => [l.who, l.action, l.serviceId])).toEqual([['bootstrap', 'service.create', 'audited'], ['bootstrap', 'service.key.add', 'audited']]);
    expect(lines.every((l) => typeof l.time === 'string')).toBe(true);
    expect(JSON.stringify(t.audit)).not.toContain(key);
    expect(JSON.stringify(t.audit)).not.toContain(ADMIN);
  });
});

describe('generation import', () => {
  const visible = async (gen: string) => (await t.call('GET', '/services/demo/generations')).body.generations.some((g: Json) => g.generation === gen);

  it('rejects a generation whose example does not score as declared, and leaves nothing behind', async () => {
    const res = await t.importGen('demo', 'bad', '2026-11-05T00:00:00Z', (m) => {
      m.endpoints[2].examples[0].expected.prediction = 99;
    });
    expect(res.status).toBe(400);
    expect(res.body.errorType).toBe('INVALID_GENERATION');
    expect(res.body.message).toMatch(/endpoint "car-mpg" example 0: expected prediction 99/);
    expect(await visible('bad')).toBe(false);
    expect(await t.store.list('services/demo/generations/bad/')).toEqual([]);
  });

  it('says exactly what is wrong with a broken manifest, a missing model and an unloadable one', async () => {
    const schema = await t.importGen('demo', 'x1', '2026-11-05T00:00:00Z', (m) => {
      m.endpoints[0].predictionType = 'TELEPATHY';
    });
    expect(schema.status).toBe(400);
    expect(schema.body.detailedMessage).toMatch(/endpoints\.0\.predictionType/);

    const files = await demoGenerationAs('v1', 'x2', '2026-11-05T00:00:00Z');
    files.delete('models/car-mpg.onnx');
    files.set('models/flight-delayed.onnx', new TextEncoder().encode('garbage'));
    const broken = await t.call('POST', '/services/demo/generations', packTarGz(files));
    expect(broken.status).toBe(400);
    expect(broken.body.detailedMessage).toMatch(/endpoint "car-mpg": models\/car-mpg\.onnx is missing/);
    expect(broken.body.detailedMessage).toMatch(/endpoint "flight-delayed": the model cannot be loaded/);
    expect(await visible('x2')).toBe(false);
  });

  it('rejects something that is not an archive with a clear 400', async () => {
    const res = await t.call('POST', '/services/demo/generations', new TextEncoder().encode('hello'));
    expect(res.status).toBe(400);
    expect(res.body.errorType).toBe('INVALID_ARCHIVE');
  });

  it('preloads a generation on request', async () => {
    const res = await t.call('POST', '/services/demo/generations/v2/preload');
    expect(res.body.endpoints).toContain('car-mpg');
    // one loaded model per prediction endpoint (SQL, lookup and the 4 code endpoints have none)
    expect(t.deps.generations.models.size).toBe(res.body.endpoints.length - 2 - 4);
  });
});

describe('metrics', () => {
  it('counts requests, records and errors per endpoint and generation, as JSON and Prometheus text', async () => {
    await t.predict('demo', 'demo-key', { dispatch: { forcedGeneration: 'v1' } });
    await t.predict('demo', 'demo-key', { dispatch: { forcedGeneration: 'v1' } });
    await t.predict('demo', 'wrong');
    const snap = (await t.call('GET', '/metrics')).body;
    const v1 = snap.endpoints.find((e: Json) => e.endpointId === 'car-mpg' && e.generation === 'v1');
    expect(v1).toMatchObject({ serviceId: 'demo', requests: 2, records: 2, errors: {} });
    expect(v1.latency.count).toBe(2);
    expect(snap.errors.INVALID_CREDENTIALS).toBe(1);
    const text = (await t.call('GET', '/metrics?format=prometheus')).body as string;
    expect(text).toContain('apinode_requests_total{service="demo",endpoint="car-mpg",generation="v1"} 2');
    expect(text).toMatch(/apinode_request_duration_seconds_bucket\{service="demo",endpoint="car-mpg",generation="v1",le="\+Inf"\} 2/);
  });
});
