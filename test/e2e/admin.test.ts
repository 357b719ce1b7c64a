import { beforeEach, describe, expect, it } from 'vitest';
import { packTarGz } from '../../src/services/archive.js';
import { folderImports } from '../../src/runtime/node-import.js';
import { ADMIN, adminAuth as admin, adminTestApp } from '../support/admin-app.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const setup = adminTestApp;
let t: Awaited<ReturnType<typeof setup>>;

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
    expect((await t.call('GET', '/keys', undefined, ci)).body.keys).toEqual([{ id: created.body.id, label: 'ci', createdAt: expect.any(String), hashPrefix: expect.any(String) }]);
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

describe('clean-unused (DELETE services-clean-unused)', () => {
  it('deletes disabled services whole and the generations no mapping references, and answers what it deleted', async () => {
    for (const s of ['off', 'mapped-off', 'split']) expect((await t.call('POST', '/services', { serviceId: s })).status).toBe(201);
    await t.importGen('off', 'g1', '2026-11-01T00:00:00Z');
    await t.importGen('mapped-off', 'g1', '2026-11-01T00:00:00Z');
    await t.call('POST', '/services/mapped-off/actions/switchTo/g1');
    await t.call('POST', '/services/mapped-off/actions/disable'); // mapped, but disabled: deleted all the same
    for (const [g, day] of [['g1', 1], ['g2', 2], ['g3', 3]] as const) await t.importGen('split', g, `2026-11-0${day}T00:00:00Z`);
    await t.call('POST', '/services/split/actions/setMapping', { entries: [{ generation: 'g1', proba: 0.5 }, { generation: 'g2', proba: 0.5 }] });
    await t.store.put('services/split/generations/g4/models/car-mpg.onnx', new Uint8Array([1])); // an import in progress: no manifest yet
    expect(await t.deps.generations.get('split', 'g3')).not.toBeNull(); // cached on this instance

    const res = await t.call('DELETE', '/services-clean-unused');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deletedServices: ['mapped-off', 'off'], deletedGenerations: [{ serviceId: 'split', generation: 'g3' }] });

    for (const s of ['off', 'mapped-off']) expect(await t.store.list(`services/${s}/`)).toEqual([]);
    expect(await t.store.list('services/split/generations/g3/')).toEqual([]);
    expect(await t.deps.generations.get('split', 'g3')).toBeNull();
    expect(await t.store.list('services/split/generations/g4/')).toEqual(['services/split/generations/g4/models/car-mpg.onnx']);
    expect((await t.call('GET', '/services/split/generations')).body.generations.map((g: Json) => g.generation)).toEqual(['g1', 'g2']);
    expect((await t.call('GET', '/services/demo/generations')).body.generations.map((g: Json) => g.generation)).toEqual(['v1', 'v2']);
    expect((await t.predict('demo', 'demo-key')).status).toBe(200);
    expect(t.audit.find((l) => l.action === 'services.cleanUnused')).toMatchObject({ who: 'bootstrap', deletedServices: ['mapped-off', 'off'] });
    expect((await t.call('DELETE', '/services-clean-unused')).body).toEqual({ deletedServices: [], deletedGenerations: [] });
  });
});

describe('model cache (DELETE model-cache)', () => {
  it('drops every loaded model and cached manifest of this instance, which loads them again on demand', async () => {
    await t.call('POST', '/services/demo/generations/v1/preload');
    const { size, bytes } = t.deps.generations.models;
    expect(size).toBeGreaterThan(0);
    const res = await t.call('DELETE', '/model-cache');
    expect(res.body).toEqual({ models: size, bytes, generations: expect.any(Number) });
    expect(res.body.generations).toBeGreaterThan(0);
    expect(t.deps.generations.models.size).toBe(0);
    expect(t.deps.generations.models.bytes).toBe(0);
    expect((await t.predict('demo', 'demo-key', { dispatch: { forcedGeneration: 'v1' } })).status).toBe(200);
    expect(t.deps.generations.models.size).toBe(1);
  });
});

describe('import from a path (importFromArchive)', () => {
  const path = (p: string) => `/services/demo/generations/actions/importFromArchive?filePath=${encodeURIComponent(p)}`;
  const archive = async (gen: string) => packTarGz(await demoGenerationAs('v1', gen, '2026-11-05T00:00:00Z'));

  it('reads bucket keys under imports/ by default (Lambda, Workers), with or without a leading slash', async () => {
    await t.store.put('imports/ci/p1.tar.gz', await archive('p1'));
    await t.store.put('imports/ci/p2.tar.gz', await archive('p2'));
    expect((await t.call('POST', path('imports/ci/p1.tar.gz'))).body).toMatchObject({ serviceId: 'demo', generation: 'p1' });
    expect((await t.call('POST', path('/imports/ci/p2.tar.gz'))).status).toBe(201);
    expect(t.audit.filter((l) => l.action === 'generation.import').map((l) => l.filePath)).toEqual(['imports/ci/p1.tar.gz', '/imports/ci/p2.tar.gz']);
    for (const p of ['services/demo/service.json', 'imports/../services/demo/service.json', 'imports/./ci/p1.tar.gz', 'admin/keys.json']) {
      expect((await t.call('POST', path(p))).body.errorType).toBe('IMPORT_PATH_FORBIDDEN');
    }
    expect((await t.call('POST', path('imports/ci/none.tar.gz'))).status).toBe(404);
  });

  it('refuses an archive above APINODE_MAX_IMPORT_BYTES with 413 before unpacking it', async () => {
    const small = await setup({ APINODE_MAX_IMPORT_BYTES: '1000' });
    await small.store.put('imports/big.tar.gz', await archive('big'));
    const res = await small.call('POST', path('imports/big.tar.gz'));
    expect(res.status).toBe(413);
    expect(res.body.errorType).toBe('PAYLOAD_TOO_LARGE');
  });

  it('on Node, reads only under APINODE_IMPORT_DIR, and says how to turn it on when unset', async () => {
    const off = await setup({}, { imports: folderImports(undefined) });
    const refused = await off.call('POST', path('/tmp/x.tar.gz'));
    expect(refused.status).toBe(403);
    expect(refused.body.errorType).toBe('IMPORT_DIR_NOT_CONFIGURED');
    expect(refused.body.detailedMessage).toContain('APINODE_IMPORT_DIR');

    const { dir } = await tempStore();
    const { writeFile, mkdir } = await import('node:fs/promises');
    await writeFile(`${dir}/p3.tar.gz`, await archive('p3'));
    await mkdir(`${dir}/folder`);
    const on = await setup({ APINODE_MAX_IMPORT_BYTES: '100000' }, { imports: folderImports(dir) });
    expect((await on.call('POST', path('p3.tar.gz'))).body.generation).toBe('p3'); // relative to the folder
    expect((await on.call('POST', path(`${dir}/folder`))).status).toBe(400);
    expect((await on.call('POST', path(`${dir}/../p3.tar.gz`))).status).toBe(403);
    await writeFile(`${dir}/big.tar.gz`, new Uint8Array(100_001));
    expect((await on.call('POST', path(`${dir}/big.tar.gz`))).status).toBe(413);
  });
});
