import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APINodeAdminClient } from '@apinode/client';
import { packTarGz } from '../../src/services/archive.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { demoRecords } from '../support/demo-records.js';
import { DEMO_KEY, type Target } from './suite.js';

/** Admin settings every target applies along with CONFORMANCE_ENV to run the admin suite. */
export const ADMIN_KEY = 'conformance-admin-key-0123456789';
export const ADMIN_ENV = { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN_KEY, APINODE_CONFIG_TTL_S: '0' };

/** A target of the admin suite also says where importFromArchive can (and cannot) read. */
export interface AdminTarget extends Target {
  /** Puts an archive where importFromArchive reads; answers the filePath to send for it. */
  stageImport(name: string, archive: Uint8Array): Promise<string>;
  /** Puts the archive in places importFromArchive must refuse (403); answers their filePaths. */
  forbiddenImports(archive: Uint8Array): Promise<string[]>;
}

/** Lambda and Workers: archives are object keys under imports/, sent as the DSS client sends paths (absolute). */
export const bucketStaging = (store: ObjectStore): Pick<AdminTarget, 'stageImport' | 'forbiddenImports'> => ({
  async stageImport(name, archive) {
    await store.put(`imports/${name}`, archive);
    return `/imports/${name}`;
  },
  async forbiddenImports(archive) {
    await store.put('exports/outside.tar.gz', archive);
    return ['exports/outside.tar.gz', '/imports/../exports/outside.tar.gz'];
  },
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const archive = async (gen: string, day: number) => packTarGz(await demoGenerationAs('v1', gen, `2026-11-0${day}T00:00:00Z`));

/**
 * The admin API over HTTP on a runtime: each test on service ids of its own, so it never
 * disturbs the demo the user-API suite relies on. Requests are sent the way the DSS Python
 * client sends them (Basic auth, JSON bodies without a Content-Type, "services/" with a slash)
 * and through the typed client.
 */
export function adminConformanceSuite(runtime: string, start: () => Promise<AdminTarget>): void {
  describe(`admin API conformance on ${runtime}`, () => {
    let t: AdminTarget;
    let typed: APINodeAdminClient;
    beforeAll(async () => {
      t = await start();
      typed = new APINodeAdminClient('http://node', ADMIN_KEY, {
        fetch: async (r) => {
          const u = new URL(r.url);
          const body = r.body ? new Uint8Array(await r.arrayBuffer()) : undefined;
          return t.fetch(u.pathname + u.search, { method: r.method, headers: r.headers, ...(body ? { body } : {}) });
        },
      });
    });
    afterAll(async () => t?.close());
    const suffix = runtime.toLowerCase().replace(/[^a-z0-9]/g, '');
    const admin = { Authorization: `Basic ${btoa(`${ADMIN_KEY}:`)}` };
    /** One admin call as the Python client makes it: a Uint8Array body gets no Content-Type. */
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = admin) => {
      const init: RequestInit = { method, headers };
      if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
      else if (body !== undefined) init.body = bytes(body);
      const res = await t.fetch(`/admin/api${path}`, init);
      return { status: res.status, body: (await res.json()) as Json };
    };
    const features = demoRecords(2)['car-mpg']![0]!;
    const predict = (sid: string, init: RequestInit = {}) => t.fetch(`/public/api/v1/${sid}/car-mpg/predict`, { method: 'POST', body: JSON.stringify({ features }), ...init });
    const expectError = (r: { status: number; body: Json }, status: number, errorType: string) => {
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ errorType, message: expect.any(String), detailedMessage: expect.any(String) });
    };

    it('takes a service from creation to a rolled-back mapping and deletion', async () => {
      const sid = `conf-${suffix}`;
      expect((await call('POST', '/services', { serviceId: sid, auth: 'PUBLIC' })).status).toBe(201);
      for (const [gen, day] of [['a', 1], ['b', 2]] as const) expect((await call('POST', `/services/${sid}/generations`, await archive(gen, day))).status).toBe(201);
      expect((await call('POST', `/services/${sid}/actions/switchToNewest`)).body.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'b' });
      expect((await predict(sid)).headers.get('x-apinode-generation')).toBe('b');
      expect((await call('POST', `/services/${sid}/actions/switchTo/a`)).status).toBe(200);
      expect((await predict(sid)).headers.get('x-apinode-generation')).toBe('a');
      expect((await call('GET', `/services/${sid}/generations`)).body.generations.map((g: Json) => g.generation)).toEqual(['a', 'b']);
      expect((await call('DELETE', `/services/${sid}`)).status).toBe(200);
      expect((await predict(sid)).status).toBe(404);
    });

    it('rejects an invalid generation with 400 and a duplicate with 409, leaving nothing visible', async () => {
      const sid = `conf-bad-${suffix}`;
      await call('POST', '/services', { serviceId: sid });
      const bad = await call('POST', `/services/${sid}/generations`, packTarGz(await demoGenerationAs('v1', 'x', '2026-11-01T00:00:00Z', (m) => (m.endpoints[0].examples[0].expected.prediction = 'Dodo'))));
      expect(bad.status).toBe(400);
      expect(bad.body.errorType).toBe('INVALID_GENERATION');
      expect((await call('GET', `/services/${sid}/generations`)).body.generations).toEqual([]);
      expect((await call('POST', `/services/${sid}/generations`, await archive('y', 1))).status).toBe(201);
      expect((await call('POST', `/services/${sid}/generations`, await archive('y', 1))).status).toBe(409);
      await call('DELETE', `/services/${sid}`);
    });

    it('answers 401 to a caller without an admin key', async () => {
      expect((await t.fetch('/admin/api/services')).status).toBe(401);
    });

    it('answers every route with or without a trailing slash', async () => {
      const sid = `conf-slash-${suffix}`;
      // create_service: POST services/ with a JSON body and no Content-Type, exactly as dataikuapi does.
      const created = await t.fetch('/admin/api/services/', { method: 'POST', headers: admin, body: bytes({ serviceId: sid }) });
      expect(created.status).toBe(201);
      expect(((await call('GET', '/services/')).body as unknown as Json[]).map((s) => s.serviceId)).toContain(sid);
      expect((await call('GET', `/services/${sid}/generations/`)).body).toEqual({ generations: [] });
      expect((await call('GET', '/keys/')).status).toBe(200);
      expect((await call('GET', '/metrics/')).status).toBe(200);
      expect((await call('DELETE', `/services/${sid}/`)).status).toBe(200);
      expect((await t.fetch('/isAlive/')).status).toBe(200);
      const user = { Authorization: `Basic ${btoa(`${DEMO_KEY}:`)}` };
      const simple = await t.fetch('/public/api/v1/demo/penguin-species/predict-simple/?island=Biscoe&sex=MALE&beak_length_mm=48.6', { headers: user });
      expect(simple.status).toBe(200);
      expect(((await simple.json()) as Json).result.prediction).toEqual(expect.any(String));
      expect((await t.fetch('/public/api/v1/demo/car-mpg/predict/', { method: 'POST', headers: user, body: JSON.stringify({ features }) })).status).toBe(200);
    });

    it('serves every call of the DSS Python admin client, sent as it sends them', async () => {
      const sid = `conf-py-${suffix}`;
      const svc = `/services/${sid}`;
      expect((await call('POST', '/services/', { serviceId: sid })).status).toBe(201);
      // import_generation_from_archive: POST with ?filePath= and no body.
      for (const [gen, day] of [['p1', 1], ['p2', 2]] as const) {
        const filePath = await t.stageImport(`${sid}-${gen}.tar.gz`, await archive(gen, day));
        const imported = await call('POST', `${svc}/generations/actions/importFromArchive?filePath=${encodeURIComponent(filePath)}`);
        expect(imported.status).toBe(201);
        expect(imported.body).toMatchObject({ serviceId: sid, generation: gen, examplesChecked: expect.any(Number) });
      }
      expect((await call('GET', `${svc}/generations`)).body.generations.map((g: Json) => g.generation)).toEqual(['p1', 'p2']);
      expect((await call('POST', `${svc}/actions/switchToNewest`)).body.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'p2' });
      expect((await call('POST', `${svc}/actions/switchTo/p1`)).body.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'p1' });
      const mapped = await call('POST', `${svc}/actions/setMapping`, { entries: [{ generation: 'p1', proba: 0.5 }, { generation: 'p2', proba: 0.5 }] });
      expect(mapped.body).toMatchObject({ enabled: true, mapping: { entries: [{ generation: 'p1' }, { generation: 'p2' }] } });
      expect((await call('POST', `${svc}/generations/p2/preload`)).body.endpoints).toContain('car-mpg');
      const user = { headers: { Authorization: `Bearer ${(await call('POST', `${svc}/keys`, {})).body.key}` } };
      expect((await predict(sid, user)).status).toBe(200);
      expect((await call('POST', `${svc}/actions/disable`)).body.enabled).toBe(false);
      expect((await predict(sid, user)).status).toBe(503);
      expect((await call('POST', `${svc}/actions/enable`)).body.enabled).toBe(true);
      expect((await predict(sid, user)).status).toBe(200);
      expect((await call('GET', '/metrics')).body).toMatchObject({ endpoints: expect.any(Array), errors: expect.any(Object) });
      expect((await call('DELETE', svc)).status).toBe(200);
      expectError(await call('GET', svc), 404, 'SERVICE_NOT_FOUND');
    });

    it('imports from a path only where the runtime allows, with the upload route\'s validation', async () => {
      const sid = `conf-path-${suffix}`;
      await call('POST', '/services', { serviceId: sid });
      const importPath = (filePath: string) => call('POST', `/services/${sid}/generations/actions/importFromArchive?filePath=${encodeURIComponent(filePath)}`);
      for (const filePath of await t.forbiddenImports(await archive('f', 1))) expectError(await importPath(filePath), 403, 'IMPORT_PATH_FORBIDDEN');
      const good = await t.stageImport(`${sid}.tar.gz`, await archive('g', 1));
      expectError(await importPath(good.replace(/[^/]+$/, 'missing.tar.gz')), 404, 'IMPORT_NOT_FOUND');
      expectError(await call('POST', `/services/${sid}/generations/actions/importFromArchive`), 400, 'INVALID_REQUEST');
      const broken = await t.stageImport(`${sid}-broken.tar.gz`, packTarGz(await demoGenerationAs('v1', 'h', '2026-11-01T00:00:00Z', (m) => (m.endpoints[0].examples[0].expected.prediction = 'Dodo'))));
      expectError(await importPath(broken), 400, 'INVALID_GENERATION');
      expect((await importPath(good)).status).toBe(201);
      expectError(await importPath(good), 409, 'GENERATION_EXISTS');
      expect((await call('GET', `/services/${sid}/generations`)).body.generations.map((g: Json) => g.generation)).toEqual(['g']);
      await call('DELETE', `/services/${sid}`);
    });

    it('covers the same calls through the typed client', async () => {
      const sid = `conf-typed-${suffix}`;
      await typed.createService(sid, 'PUBLIC');
      await typed.importGeneration(sid, await archive('t1', 1));
      expect((await typed.importFromArchive(sid, await t.stageImport(`${sid}.tar.gz`, await archive('t2', 2)))).generation).toBe('t2');
      expect((await typed.switchToNewest(sid)).mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 't2' });
      expect((await typed.switchTo(sid, 't1')).enabled).toBe(true);
      expect((await typed.setMapping(sid, { entries: [{ generation: 't1', proba: 1 }] })).mapping).toMatchObject({ entries: [{ generation: 't1', proba: 1 }] });
      expect((await typed.preloadGeneration(sid, 't1')).endpoints).toContain('car-mpg');
      expect((await typed.disableService(sid)).enabled).toBe(false);
      expect((await typed.enableService(sid)).enabled).toBe(true);
      expect((await typed.listGenerations(sid)).generations.map((g) => [g.generation, g.proba])).toEqual([['t1', 1], ['t2', 0]]);
      expect((await typed.cleanUnused()).deletedGenerations).toContainEqual({ serviceId: sid, generation: 't2' });
      expect((await typed.listGenerations(sid)).generations.map((g) => g.generation)).toEqual(['t1']);
      expect((await typed.metrics()).since).toEqual(expect.any(String));
      expect(await typed.clearModelCache()).toEqual({ models: expect.any(Number), bytes: expect.any(Number), generations: expect.any(Number) });
      const key = await typed.addAdminKey({ label: 'typed', description: 'conformance', createdBy: 'vitest', expiry: 1 });
      expect(key).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), label: 'typed', description: 'conformance', createdBy: 'vitest', expiresAt: expect.any(String) });
      expect((await typed.listAdminKeys()).keys.map((k) => k.id)).toContain(key.id);
      expect(await typed.revokeAdminKeyById(key.id)).toEqual({ revoked: true, id: key.id });
      await typed.deleteService(sid);
    });

    it('manages admin keys by id: free-text labels, revocation by key, by id and by id/key', async () => {
      const add = (body: Json) => call('POST', '/keys', body);
      const [a, b, c] = [await add({ label: 'ci', description: 'pipeline', createdBy: 'ops', expiry: null }), await add({ label: 'ci' }), await add({ label: null, description: null, createdBy: null, expiry: null })];
      for (const k of [a, b, c]) expect(k.status).toBe(201);
      expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(3);
      expect(a.body).toMatchObject({ label: 'ci', description: 'pipeline', createdBy: 'ops', key: expect.any(String) });
      expect(c.body.label).toBeNull();
      const listed = await call('GET', '/keys');
      expect(listed.body.keys.map((k: Json) => k.id)).toEqual(expect.arrayContaining([a.body.id, b.body.id, c.body.id]));
      for (const k of [a, b, c]) expect(JSON.stringify(listed.body)).not.toContain(k.body.key);
      const as = (key: string) => ({ Authorization: `Basic ${btoa(`${key}:`)}` });
      expect((await call('GET', '/services', undefined, as(a.body.key))).status).toBe(200);
      expectError(await call('DELETE', '/keys/ci'), 409, 'KEY_LABEL_AMBIGUOUS');
      // delete_key(key): the key itself in the path; the answer and a second try never echo it.
      expect((await call('DELETE', `/keys/${a.body.key}`)).body).toEqual({ revoked: true, id: a.body.id });
      expect((await call('GET', '/services', undefined, as(a.body.key))).status).toBe(401);
      const again = await call('DELETE', `/keys/${a.body.key}`);
      expectError(again, 404, 'KEY_NOT_FOUND');
      expect(JSON.stringify(again.body)).not.toContain(a.body.key);
      expect((await call('DELETE', `/keys/${b.body.id}/key`)).body).toEqual({ revoked: true, id: b.body.id }); // delete_key_by_id
      expect((await call('DELETE', `/keys/${c.body.id}`)).body).toEqual({ revoked: true, id: c.body.id });
      expectError(await call('DELETE', `/keys/${c.body.id}/key`), 404, 'KEY_NOT_FOUND');
      expectError(await add({ label: 'late', expiry: '2001-01-01' }), 400, 'INVALID_REQUEST');
      expect(Date.parse((await add({ label: 'soon', expiry: 2 })).body.expiresAt) - Date.now()).toBeGreaterThan(86_400_000);
    });

    it('gives service keys ids, and revokes them by id', async () => {
      const key = await call('POST', '/services/demo/keys', { label: `conf-${suffix}` });
      expect(key.body.id).toMatch(/^[0-9a-f]{16}$/);
      const bearer = { headers: { Authorization: `Bearer ${key.body.key}` } };
      expect((await predict('demo', bearer)).status).toBe(200);
      expect((await call('GET', '/services/demo/keys')).body.keys.map((k: Json) => k.id)).toContain(key.body.id);
      expect((await call('DELETE', `/services/demo/keys/${key.body.id}`)).body).toEqual({ revoked: true, id: key.body.id });
      expect((await predict('demo', bearer)).status).toBe(401);
    });

    it('loses no acknowledged change when key additions, a revocation, mappings and imports of one id race', { timeout: 120_000 }, async () => {
      const sid = `conf-race-${suffix}`;
      const svc = `/services/${sid}`;
      await call('POST', '/services', { serviceId: sid });
      expect((await call('POST', `${svc}/generations`, await archive('a', 1))).status).toBe(201);
      const victim = (await call('POST', `${svc}/keys`, { label: 'victim' })).body;
      const single = { mode: 'SINGLE_GENERATION', generation: 'a' };
      const split = { entries: [{ generation: 'a', proba: 1 }] };
      const answers = await Promise.all([
        call('DELETE', `${svc}/keys/${victim.id}`),
        ...Array.from({ length: 6 }, (_, i) => call('POST', `${svc}/keys`, { label: `k${i}` })),
        ...Array.from({ length: 6 }, (_, i) => call('POST', `${svc}/actions/setMapping`, i % 2 ? single : split)),
      ]);
      expect(answers.map((a) => a.status)).toEqual([200, ...Array(6).fill(201), ...Array(6).fill(200)]);
      const bearer = (key: string) => ({ headers: { Authorization: `Bearer ${key}` } });
      expect((await predict(sid, bearer(victim.key))).status).toBe(401);
      for (const a of answers.slice(1, 7)) expect((await predict(sid, bearer(a.body.key))).status).toBe(200);
      expect((await call('GET', `${svc}/keys`)).body.keys.map((k: Json) => k.label).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);

      const imports = await Promise.all([1, 2, 3, 4].map(async (day) => call('POST', `${svc}/generations`, await archive('dup', day))));
      expect(imports.map((a) => a.status).sort()).toEqual([201, 409, 409, 409]);
      const winner = imports.find((a) => a.status === 201)!;
      const listed = (await call('GET', `${svc}/generations`)).body.generations as Json[];
      expect(listed.find((g) => g.generation === 'dup')).toMatchObject({ createdAt: expect.stringMatching(/^2026-11-0[1-4]/) });
      expect(winner.body.generation).toBe('dup');
      expect((await call('POST', `${svc}/actions/switchTo/dup`)).status).toBe(200);
      expect((await predict(sid, bearer(answers[1]!.body.key))).headers.get('x-apinode-generation')).toBe('dup');
      await call('DELETE', svc);
    });

    it('clears the model cache of the instance that answers, which then loads models again', async () => {
      await call('POST', '/services/demo/generations/v1/preload');
      const first = await call('DELETE', '/model-cache');
      expect(first.status).toBe(200);
      expect(first.body.models).toBeGreaterThan(0);
      expect(first.body.bytes).toBeGreaterThan(0);
      expect((await call('DELETE', '/model-cache/')).body).toEqual({ models: 0, bytes: 0, generations: 0 });
      expect((await predict('demo', { headers: { Authorization: `Bearer ${DEMO_KEY}` } })).status).toBe(200);
    });

    it('cleans up disabled services and unmapped generations, and nothing else', async () => {
      const [off, on] = [`conf-off-${suffix}`, `conf-on-${suffix}`];
      for (const sid of [off, on]) {
        await call('POST', '/services', { serviceId: sid });
        for (const [gen, day] of [['g1', 1], ['g2', 2]] as const) await call('POST', `/services/${sid}/generations`, await archive(gen, day));
      }
      await call('POST', `/services/${on}/actions/switchTo/g2`);
      const cleaned = await call('DELETE', '/services-clean-unused');
      expect(cleaned.status).toBe(200);
      expect(cleaned.body.deletedServices).toContain(off);
      expect(cleaned.body.deletedServices).not.toContain(on);
      expect(cleaned.body.deletedServices).not.toContain('demo');
      expect(cleaned.body.deletedGenerations.filter((g: Json) => g.serviceId === on || g.serviceId === 'demo')).toEqual([{ serviceId: on, generation: 'g1' }]);
      expectError(await call('GET', `/services/${off}`), 404, 'SERVICE_NOT_FOUND');
      expect((await call('GET', `/services/${on}/generations/`)).body.generations.map((g: Json) => g.generation)).toEqual(['g2']);
      expect((await predict('demo', { headers: { Authorization: `Bearer ${DEMO_KEY}` } })).status).toBe(200);
      await call('DELETE', `/services/${on}`);
    });

    it('answers the DSS routes a serverless node has no use for with 400 OPERATION_NOT_SUPPORTED', async () => {
      for (const [method, path] of [['POST', '/cached-code-envs?fileDir=%2Fenv&language=python'], ['DELETE', '/cached-code-envs'], ['POST', '/register-global-code-env?exportedEnvDir=a&builtEnvDir=b&language=python'], ['POST', '/model-cache?modelArchivePath=%2Fm.zip']] as const) {
        const res = await call(method, path);
        expectError(res, 400, 'OPERATION_NOT_SUPPORTED');
        expect(res.body.detailedMessage).toMatch(/generation/);
      }
    });
  });
}
