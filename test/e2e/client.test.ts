import { beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { silentLogger } from '../../src/observability/logger.js';
import { seedDemoDatabase } from '../../src/runtime/node-demo-sql.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import { APINodeAdminClient, APINodeClient, ApiNodeError } from '@apinode/client';
import { loadReference, referenceScore } from '../../examples/reference-scorer.js';
import { packTarGz } from '../../src/services/archive.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

const ADMIN = 'client-test-admin-key-0123456789';
const records = demoRecords(10);
let fetchApp: (r: Request) => Promise<Response>;
let store: Awaited<ReturnType<typeof tempStore>>['store'];

beforeAll(async () => {
  ({ store } = await tempStore());
  await seedDemo(store, 'client-key');
  const db = await PGlite.create();
  await seedDemoDatabase(db);
  const sql = new PgliteSqlClient(db, 'default', silentLogger);
  const { app } = testApp(store, { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0' }, { sql: () => sql });
  fetchApp = async (r) => app.fetch(r);
});

describe('APINodeClient (the DSS client methods) against the real app', () => {
  const client = () => new APINodeClient('http://node', 'demo', { apiKey: 'client-key', fetch: fetchApp });

  it('predictRecord honours forcedGeneration and matches the trained model', async () => {
    const features = records['penguin-species']![2]!;
    const res = await client().predictRecord('penguin-species', features, { forcedGeneration: 'v2' });
    expect(res.apiContext.serviceGeneration).toBe('v2');
    expect(res.result.prediction).toBe(referenceScore(loadReference('v2', 'penguin-species'), features).prediction);
  });

  it('predictRecords scores a batch and dispatchKey pins the generation', async () => {
    const a = await client().predictRecords('car-mpg', records['car-mpg']!, { dispatchKey: 'tenant-7' });
    const b = await client().predictRecords('car-mpg', records['car-mpg']!, { dispatchKey: 'tenant-7' });
    expect(a.results).toHaveLength(10);
    expect(a.apiContext.serviceGeneration).toBe(b.apiContext.serviceGeneration);
  });

  it('raises ApiNodeError with the errorType and status', async () => {
    const bad = new APINodeClient('http://node', 'demo', { apiKey: 'nope', fetch: fetchApp });
    await expect(bad.predictRecord('car-mpg', {})).rejects.toMatchObject({ name: 'ApiNodeError', status: 401, errorType: 'INVALID_CREDENTIALS' });
    await expect(client().predictRecord('no-such-endpoint', {})).rejects.toBeInstanceOf(ApiNodeError);
    await expect(client().sqlQuery('car-mpg', {})).rejects.toMatchObject({ status: 400, errorType: 'WRONG_ENDPOINT_TYPE' });
  });

  it('sqlQuery, lookupRecord and lookupRecords reach the data endpoints', async () => {
    const q = await client().sqlQuery<{ results: { rows: string[][] }[] }>('cars-by-origin', { origin: 'Europe', minMpg: 40 });
    expect(q.results[0]!.rows.every((r) => r[5] === 'Europe' && Number(r[1]) >= 40)).toBe(true);
    const one = await client().lookupRecord<{ results: { data: { Name: string } }[] }>('car-specs', { Name: 'ford pinto' });
    expect(one.results[0]!.data.Name).toBe('ford pinto');
    const many = await client().lookupRecords<{ results: { ignored: boolean }[] }>('car-specs', [{ Name: 'ford pinto' }, { Name: 'nope' }]);
    expect(many.results.map((r) => r.ignored)).toEqual([false, true]);
  });

  it('reports an unreachable node as UNREACHABLE', async () => {
    const c = new APINodeClient('http://127.0.0.1:1', 'demo', { apiKey: 'k' });
    await expect(c.predictRecord('car-mpg', {})).rejects.toMatchObject({ errorType: 'UNREACHABLE', status: 0 });
  });
});

describe('APINodeAdminClient against the real app', () => {
  it('drives a service end to end', async () => {
    const admin = new APINodeAdminClient('http://node', ADMIN, { fetch: fetchApp });
    await admin.createService('typed', 'API_KEYS');
    const imported = await admin.importGeneration('typed', packTarGz(await demoGenerationAs('v2', 'g1', '2026-11-01T00:00:00Z')));
    expect(imported.endpoints).toContain('penguin-clusters');
    await admin.setMapping('typed', { entries: [{ generation: 'g1', proba: 1 }] });
    const { key } = await admin.addServiceKey('typed', 'app');
    const user = new APINodeClient('http://node', 'typed', { apiKey: key, fetch: fetchApp });
    expect((await user.predictRecord('car-mpg', records['car-mpg']![0]!)).apiContext.serviceGeneration).toBe('g1');
    expect((await admin.listServiceKeys('typed')).keys.map((k) => k.label)).toEqual(['app']);
    expect((await admin.metrics()).endpoints.some((e) => e.serviceId === 'typed' && e.requests === 1)).toBe(true);
    expect(await admin.metricsPrometheus()).toContain('service="typed"');
    await admin.revokeServiceKey('typed', 'app');
    await expect(user.predictRecord('car-mpg', {})).rejects.toMatchObject({ status: 401 });
    await admin.deleteService('typed');
    await expect(admin.getService('typed')).rejects.toMatchObject({ status: 404, errorType: 'SERVICE_NOT_FOUND' });
  });

  it('imports from a bucket path, manages admin keys by id, cleans up and clears the model cache', async () => {
    const admin = new APINodeAdminClient('http://node', ADMIN, { fetch: fetchApp });
    await admin.createService('paths');
    await store.put('imports/paths-g1.tar.gz', packTarGz(await demoGenerationAs('v1', 'g1', '2026-11-01T00:00:00Z')));
    expect(await admin.importFromArchive('paths', 'imports/paths-g1.tar.gz')).toMatchObject({ serviceId: 'paths', generation: 'g1' });
    await expect(admin.importFromArchive('paths', 'elsewhere/x.tar.gz')).rejects.toMatchObject({ status: 403, errorType: 'IMPORT_PATH_FORBIDDEN' });

    const key = await admin.addAdminKey({ label: 'ops', description: 'on call', createdBy: 'me', expiry: '2099-01-01' });
    expect(key).toMatchObject({ label: 'ops', description: 'on call', createdBy: 'me', expiresAt: '2099-01-02T00:00:00.000Z', expired: false });
    const ops = new APINodeAdminClient('http://node', key.key, { fetch: fetchApp });
    expect((await ops.listAdminKeys()).keys).toContainEqual(expect.objectContaining({ id: key.id, label: 'ops' }));
    expect(await admin.revokeAdminKeyById(key.id)).toEqual({ revoked: true, id: key.id });
    await expect(ops.listAdminKeys()).rejects.toMatchObject({ status: 401, errorType: 'INVALID_CREDENTIALS' });

    expect((await admin.cleanUnused()).deletedServices).toContain('paths'); // created, never mapped: disabled
    await expect(admin.getService('paths')).rejects.toMatchObject({ status: 404 });
    expect((await admin.clearModelCache()).models).toBeGreaterThan(0); // the demo's, scored above
    expect(await admin.clearModelCache()).toEqual({ models: 0, bytes: 0, generations: 0 });
  });
});
