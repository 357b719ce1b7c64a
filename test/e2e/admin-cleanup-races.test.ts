import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { ERROR_TYPES } from '@apinode/protocol';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { packTarGz } from '../../src/services/archive.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore, WriteCondition } from '../../src/storage/object-store.js';
import { adminAuth } from '../support/admin-app.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const car = demoRecords(3)['car-mpg']![0]!;
/** 'got': just after a get answered (the caller has the object, has not used it yet). */
type Op = 'get' | 'got' | 'put' | 'list' | 'delete';

interface Pause {
  when: (op: Op, key: string, n: number) => boolean;
  count: number;
  reached: () => void;
  released: Promise<void>;
  release: () => void;
}

/**
 * The real FsObjectStore, with each admin's calls (those run inside `as(actor, …)`) counted and
 * stoppable: `pauseAt` stops that actor at its first store call matching the predicate, until
 * `release(actor)`. Everyone else's calls go straight through. So a race is replayed exactly:
 * the clean-up stops where it is told, the other admin's whole operation runs, then it goes on.
 */
class SteppedStore implements ObjectStore {
  private readonly actor = new AsyncLocalStorage<string>();
  private readonly pauses = new Map<string, Pause>();
  constructor(private readonly inner: ObjectStore) {}

  as<T>(actor: string, run: () => Promise<T>): Promise<T> {
    return this.actor.run(actor, run);
  }

  /** Arms the pause; answers a promise that settles when the actor reaches it. */
  pauseAt(actor: string, when: (op: Op, key: string, n: number) => boolean): Promise<void> {
    let reached!: () => void;
    let release!: () => void;
    const hit = new Promise<void>((r) => (reached = r));
    const released = new Promise<void>((r) => (release = r));
    this.pauses.get(actor)?.release();
    this.pauses.set(actor, { when, count: 0, reached, released, release });
    return hit;
  }

  release(actor = 'cleaner'): void {
    this.pauses.get(actor)?.release();
    this.pauses.delete(actor);
  }

  private async gate(op: Op, key: string): Promise<void> {
    const actor = this.actor.getStore();
    const p = actor === undefined ? undefined : this.pauses.get(actor);
    if (!p || !p.when(op, key, p.count++)) return;
    p.when = () => false;
    p.reached();
    await p.released;
  }

  async get(key: string) {
    await this.gate('get', key);
    const got = await this.inner.get(key);
    await this.gate('got', key);
    return got;
  }
  getIfChanged(key: string, etag: string) {
    return this.inner.getIfChanged(key, etag);
  }
  async put(key: string, body: Uint8Array, condition?: WriteCondition) {
    await this.gate('put', key);
    return this.inner.put(key, body, condition);
  }
  async list(prefix: string) {
    await this.gate('list', prefix);
    return this.inner.list(prefix);
  }
  async delete(key: string) {
    await this.gate('delete', key);
    return this.inner.delete(key);
  }
}

async function setup() {
  const { store: fs } = await tempStore();
  await seedDemo(fs, 'demo-key');
  const store = new SteppedStore(fs);
  const built = testApp(store, { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: 'admin-bootstrap-key-0123456789', APINODE_CONFIG_TTL_S: '0' });
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; json: boolean }> => {
    const init: RequestInit = { method, headers: adminAuth };
    if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const res = await built.app.request(`/admin/api${path}`, init);
    const json = (res.headers.get('content-type') ?? '').includes('json');
    return { status: res.status, body: json ? ((await res.json()) as Json) : { text: await res.text() }, json };
  };
  const predict = (service: string, key: string) =>
    built.app.request(`/public/api/v1/${service}/car-mpg/predict`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}` },
      body: JSON.stringify({ features: car }),
    });
  /** A generation committed straight into the store, as an import leaves it (files, then the manifest). */
  const putGeneration = async (service: string, gen: string, createdAt = '2030-01-01T00:00:00Z') => {
    const files = await demoGenerationAs('v1', gen, createdAt);
    for (const [path, body] of files) if (path !== 'manifest.json') await fs.put(layout.file(service, gen, path), body);
    await fs.put(layout.manifest(service, gen), files.get('manifest.json')!);
  };
  const hasManifest = async (service: string, gen: string) => (await fs.get(layout.manifest(service, gen))) !== null;
  const stored = async (service: string): Promise<Json | null> => {
    const obj = await fs.get(layout.service(service));
    return obj ? (JSON.parse(new TextDecoder().decode(obj.body)) as Json) : null;
  };
  /** Runs the clean-up as admin "cleaner"; answers its answer. */
  const clean = () => store.as('cleaner', () => call('DELETE', '/services-clean-unused'));
  return { fs, store, call, predict, putGeneration, hasManifest, stored, clean };
}

let t: Awaited<ReturnType<typeof setup>>;
beforeEach(async () => {
  t = await setup();
});

const svcKey = (s: string) => layout.service(s);
/** The clean-up's read of this service's service.json, before anything is changed. */
const afterReadOf = (s: string) => (op: Op, key: string) => op === 'got' && key === svcKey(s);
/** The clean-up's first delete under this service. */
const firstDeleteUnder = (s: string) => (op: Op, key: string) => op === 'delete' && key.startsWith(`services/${s}/`);

/** Every answer is a success or a JSON error of the node's vocabulary, with its status. */
function expectClear(a: { status: number; body: Json; json: boolean }, ok: number[], errors: Record<string, number>) {
  expect(a.json, JSON.stringify(a.body)).toBe(true);
  if (ok.includes(a.status)) return;
  expect(Object.keys(errors), JSON.stringify(a.body)).toContain(a.body.errorType);
  expect(a.status).toBe(errors[a.body.errorType]);
  expect(ERROR_TYPES[a.body.errorType as keyof typeof ERROR_TYPES].status).toContain(a.status);
  expect(typeof a.body.message).toBe('string');
}

describe('clean-up against an admin mapping a generation it is about to delete', () => {
  // The demo maps v1 and v2; v3 is committed, unmapped: the clean-up's to delete.
  beforeEach(async () => {
    await t.putGeneration('demo', 'v3');
  });

  for (const [where, at] of [
    ['after the clean-up read service.json', afterReadOf('demo')],
    ['at the clean-up first delete', firstDeleteUnder('demo')],
  ] as const) {
    it(`switchTo the unused generation ${where}: the mapped generation is never deleted`, async () => {
      const reached = t.store.pauseAt('cleaner', at);
      const cleaning = t.clean();
      await reached;
      const switched = await t.call('POST', '/services/demo/actions/switchTo/v3');
      t.store.release();
      const cleaned = await cleaning;
      expect(cleaned.status).toBe(200);
      expectClear(switched, [200], { GENERATION_NOT_COMMITTED: 409 });
      const config = (await t.stored('demo'))!;
      if (switched.status === 200) {
        // Production points at v3 now: it must still be there, and serve.
        expect(config.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'v3' });
        expect(await t.hasManifest('demo', 'v3')).toBe(true);
        expect(cleaned.body.deletedGenerations).not.toContainEqual({ serviceId: 'demo', generation: 'v3' });
      } else {
        expect(config.mapping.entries.map((e: Json) => e.generation)).toEqual(['v1', 'v2']);
        expect(await t.hasManifest('demo', 'v3')).toBe(false);
      }
      expect(config.cleanup).toBeUndefined();
      expect((await t.predict('demo', 'demo-key')).status).toBe(200);
    });
  }

  it('setMapping with the unused generation after the clean-up read: answered, kept, and served', async () => {
    const reached = t.store.pauseAt('cleaner', afterReadOf('demo'));
    const cleaning = t.clean();
    await reached;
    const mapping = { mode: 'SPLIT', entries: [{ generation: 'v2', proba: 0.5 }, { generation: 'v3', proba: 0.5 }] };
    const set = await t.call('POST', '/services/demo/actions/setMapping', mapping);
    t.store.release();
    expect((await cleaning).body.deletedGenerations).toEqual([{ serviceId: 'demo', generation: 'v1' }]);
    expect(set.status).toBe(200);
    expect((await t.stored('demo'))!.mapping).toEqual(mapping);
    for (const g of ['v2', 'v3']) expect(await t.hasManifest('demo', g)).toBe(true);
    for (let i = 0; i < 6; i++) expect((await t.predict('demo', 'demo-key')).status).toBe(200);
  });

  it('a switchTo that checked the generation before a whole clean-up ran is refused when it writes', async () => {
    // The admin has listed the generations (v3 is there) and read service.json for its write, then stops.
    let reads = 0;
    const stopped = t.store.pauseAt('admin', (op, key) => op === 'got' && key === svcKey('demo') && ++reads === 2);
    const switching = t.store.as('admin', () => t.call('POST', '/services/demo/actions/switchTo/v3'));
    await stopped;
    const cleaned = await t.clean();
    expect(cleaned.body.deletedGenerations).toEqual([{ serviceId: 'demo', generation: 'v3' }]);
    t.store.release('admin');
    const switched = await switching;
    expectClear(switched, [], { GENERATION_NOT_COMMITTED: 409 });
    expect((await t.stored('demo'))!.mapping.entries.map((e: Json) => e.generation)).toEqual(['v1', 'v2']);
    expect((await t.predict('demo', 'demo-key')).status).toBe(200);
  });

  it('a generation being deleted is not listed, cannot be mapped, and a second clean-up finishes the job', async () => {
    // The clean-up stops for good after deleting v3's manifest (as if it crashed there).
    const reached = t.store.pauseAt('cleaner', (op, key) => op === 'delete' && key.startsWith(layout.generation('demo', 'v3')) && !key.endsWith('manifest.json'));
    void t.clean();
    await reached;
    expect((await t.stored('demo'))!.cleanup.generations).toEqual(['v3']);
    const listed = await t.call('GET', '/services/demo/generations');
    expect(listed.body.generations.map((g: Json) => g.generation)).toEqual(['v1', 'v2']);
    const refused = await t.call('POST', '/services/demo/actions/switchTo/v3');
    expectClear(refused, [], { GENERATION_NOT_COMMITTED: 409 });
    // A new clean-up (another admin, or a restart) finishes it; the stopped one is never resumed here.
    const again = await t.clean();
    expect(again.status).toBe(200);
    expect(again.body.deletedGenerations).toEqual([{ serviceId: 'demo', generation: 'v3' }]);
    expect(await t.fs.list(layout.generation('demo', 'v3'))).toEqual([]);
    expect((await t.stored('demo'))!.cleanup).toBeUndefined();
    expect((await t.call('GET', '/services/demo')).body.mapping.entries).toHaveLength(2);
    t.store.release();
  });

  it('a rollout step cannot map a generation the clean-up marked (the rollout controller respects the marker)', async () => {
    // Stopped before deleting v3's manifest: the rollout's own "is it committed" check passes.
    const reached = t.store.pauseAt('cleaner', firstDeleteUnder('demo'));
    void t.clean();
    await reached;
    const start = await t.call('POST', '/services/demo/rollout', { generation: 'v3', steps: [50, 100], everyS: 60, maxErrorRate: 0.5 });
    expectClear(start, [], { GENERATION_NOT_COMMITTED: 409 });
    expect((await t.stored('demo'))!.mapping.entries.map((e: Json) => e.generation)).toEqual(['v1', 'v2']);
    t.store.release();
  });
});

describe('clean-up against an admin enabling a disabled service it is about to delete', () => {
  beforeEach(async () => {
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(201);
    await t.putGeneration('shop', 'g1');
  });

  it('switchTo after the clean-up read the disabled service.json: the service stays, enabled, with its generation', async () => {
    const reached = t.store.pauseAt('cleaner', afterReadOf('shop'));
    const cleaning = t.clean();
    await reached;
    const switched = await t.call('POST', '/services/shop/actions/switchTo/g1');
    t.store.release();
    const cleaned = await cleaning;
    expect(switched.status).toBe(200);
    expect(cleaned.body.deletedServices).not.toContain('shop');
    const config = await t.stored('shop');
    expect(config).toMatchObject({ enabled: true, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } });
    expect(config!.cleanup).toBeUndefined();
    expect(await t.hasManifest('shop', 'g1')).toBe(true);
    expect((await t.call('GET', '/services/shop')).body.enabled).toBe(true);
  });

  it('switchTo, addKey, setCors while the clean-up deletes the service: 404 each, nothing half-written', async () => {
    const reached = t.store.pauseAt('cleaner', firstDeleteUnder('shop'));
    const cleaning = t.clean();
    await reached;
    const answers = [
      await t.call('POST', '/services/shop/actions/switchTo/g1'),
      await t.call('POST', '/services/shop/actions/enable'),
      await t.call('POST', '/services/shop/keys', { label: 'late' }),
      await t.call('GET', '/services/shop'),
      await t.call('GET', '/services/shop/generations'),
      await t.call('DELETE', '/services/shop'),
    ];
    for (const a of answers) expectClear(a, [], { SERVICE_NOT_FOUND: 404 });
    const created = await t.call('POST', '/services', { serviceId: 'shop' });
    expectClear(created, [], { SERVICE_EXISTS: 409 });
    // The list leaves it out rather than failing.
    const listed = await t.call('GET', '/services');
    expect(listed.status).toBe(200);
    expect(listed.body.map((s: Json) => s.serviceId)).toEqual(['demo']);
    t.store.release();
    expect((await cleaning).body.deletedServices).toEqual(['shop']);
    expect(await t.fs.list('services/shop/')).toEqual([]);
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(201);
  });
});

describe('delete against other admins', () => {
  beforeEach(async () => {
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(201);
    await t.putGeneration('shop', 'g1');
  });

  it('a service created again while the old one is being deleted is not deleted with it', async () => {
    // The deleter stops before it lists the service's files (old code: service.json already gone).
    const reached = t.store.pauseAt('deleter', (op, key) => op === 'list' && key === 'services/shop/');
    const deleting = t.store.as('deleter', () => t.call('DELETE', '/services/shop'));
    await reached;
    const created = await t.call('POST', '/services', { serviceId: 'shop' });
    expectClear(created, [201], { SERVICE_EXISTS: 409 });
    t.store.release('deleter');
    expect((await deleting).status).toBe(200);
    if (created.status === 201) expect(await t.stored('shop'), 'a service answered 201 must exist').not.toBeNull();
    else expect(await t.fs.list('services/shop/')).toEqual([]);
  });

  it('changes racing a delete: 404, or done before it; none lands in a deleted service', async () => {
    const reached = t.store.pauseAt('deleter', firstDeleteUnder('shop'));
    const deleting = t.store.as('deleter', () => t.call('DELETE', '/services/shop'));
    await reached;
    const answers = [
      await t.call('POST', '/services/shop/actions/switchTo/g1'),
      await t.call('POST', '/services/shop/keys', { label: 'late' }),
      await t.call('POST', '/services/shop/generations', packTarGz(await demoGenerationAs('v1', 'g2', '2030-01-02T00:00:00Z'))),
      await t.call('DELETE', '/services/shop'),
    ];
    for (const a of answers) expectClear(a, [], { SERVICE_NOT_FOUND: 404 });
    t.store.release('deleter');
    expect((await deleting).status).toBe(200);
    expect(await t.fs.list('services/shop/')).toEqual([]);
  });

  it('a delete that stopped halfway is finished by the next clean-up', async () => {
    const reached = t.store.pauseAt('deleter', firstDeleteUnder('shop'));
    void t.store.as('deleter', () => t.call('DELETE', '/services/shop'));
    await reached;
    const cleaned = await t.clean();
    expect(cleaned.body.deletedServices).toEqual(['shop']);
    expect(await t.fs.list('services/shop/')).toEqual([]);
    t.store.release('deleter');
  });

  it('an import that read the service before a delete does not leave a generation behind it', async () => {
    // The importer has checked that the service exists and stops before its first write.
    const importing = t.store.pauseAt('importer', (op) => op === 'put');
    const imported = t.store.as('importer', async () => t.call('POST', '/services/shop/generations', packTarGz(await demoGenerationAs('v1', 'g2', '2030-01-02T00:00:00Z'))));
    await importing;
    expect((await t.call('DELETE', '/services/shop')).status).toBe(200);
    t.store.release('importer');
    const answer = await imported;
    expectClear(answer, [], { SERVICE_NOT_FOUND: 404 });
    // A service created again under the id starts empty: nothing of the deleted one's comes back.
    expect((await t.call('POST', '/services', { serviceId: 'shop' })).status).toBe(201);
    expect((await t.call('GET', '/services/shop/generations')).body.generations).toEqual([]);
    expect(await t.fs.list(layout.generationsPrefix('shop'))).toEqual([]);
  });
});

describe('clean-up interleaved with other admins (property)', () => {
  const SERVICES = ['demo', 'sa', 'sb'] as const;
  const GENS = ['g1', 'g2', 'g3'] as const;
  const service = fc.constantFrom(...SERVICES);
  const gen = fc.constantFrom(...GENS);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('switchTo' as const), service, gen }),
    fc.record({ kind: fc.constant('setMapping' as const), service, gen, other: gen }),
    fc.record({ kind: fc.constant('enable' as const), service }),
    fc.record({ kind: fc.constant('disable' as const), service }),
    fc.record({ kind: fc.constant('delete' as const), service }),
    fc.record({ kind: fc.constant('create' as const), service }),
  );
  /** The other admin's operation runs while the clean-up is stopped before its n-th store call. */
  const step = fc.record({ op, pauseAt: fc.nat({ max: 40 }) });

  const run = async (o: Json): Promise<{ status: number; body: Json; json: boolean }> => {
    switch (o.kind) {
      case 'switchTo':
        return t.call('POST', `/services/${o.service}/actions/switchTo/${o.gen}`);
      case 'setMapping':
        return t.call('POST', `/services/${o.service}/actions/setMapping`, o.gen === o.other ? { mode: 'SINGLE_GENERATION', generation: o.gen } : { entries: [{ generation: o.gen, proba: 0.5 }, { generation: o.other, proba: 0.5 }] });
      case 'enable':
        return t.call('POST', `/services/${o.service}/actions/enable`);
      case 'disable':
        return t.call('POST', `/services/${o.service}/actions/disable`);
      case 'delete':
        return t.call('DELETE', `/services/${o.service}`);
      default:
        return t.call('POST', '/services', { serviceId: o.service });
    }
  };

  it('keeps every mapped generation and every acknowledged change', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        t = await setup();
        for (const s of SERVICES) {
          if (s !== 'demo') expect((await t.call('POST', '/services', { serviceId: s })).status).toBe(201);
          for (const g of GENS) await t.putGeneration(s, g);
        }
        expect((await t.call('POST', '/services/sa/actions/switchTo/g1')).status).toBe(200);
        for (const { op: o, pauseAt } of steps) {
          const reached = t.store.pauseAt('cleaner', (_op, _key, n) => n === pauseAt);
          const cleaning = t.clean();
          await Promise.race([reached, cleaning]);
          const answer = await run(o);
          t.store.release();
          const cleaned = await cleaning;
          expect(cleaned.status, JSON.stringify(cleaned.body)).toBe(200);
          expectClear(answer, [200, 201], { SERVICE_NOT_FOUND: 404, SERVICE_EXISTS: 409, GENERATION_NOT_COMMITTED: 409, SERVICE_NOT_MAPPED: 409 });

          // No acknowledged change is lost: nothing else ran after it but the clean-up.
          const after = await t.stored(o.service);
          if (answer.status === 200 && (o.kind === 'switchTo' || o.kind === 'setMapping' || o.kind === 'enable')) {
            expect(after, `${o.kind} ${o.service} answered 200`).not.toBeNull();
            expect(after!.enabled).toBe(true);
            expect(after!.mapping).toEqual(answer.body.mapping);
          }
          if (answer.status === 200 && o.kind === 'delete') expect(after).toBeNull();
          // A service created is disabled: the clean-up may delete it, but then it says so.
          if (answer.status === 201 && !after) expect(cleaned.body.deletedServices).toContain(o.service);

          // Every generation a stored mapping references has its manifest; no marker is left behind.
          for (const s of SERVICES) {
            const c = await t.stored(s);
            if (!c) continue;
            expect(c.cleanup, `${s}: marker left`).toBeUndefined();
            const mapped: string[] = !c.mapping ? [] : c.mapping.mode === 'SINGLE_GENERATION' ? [c.mapping.generation] : c.mapping.entries.map((e: Json) => e.generation);
            for (const g of mapped) expect(await t.hasManifest(s, g), `${s}/${g} is mapped`).toBe(true);
          }
        }
      }),
      { numRuns: 12 },
    );
  }, 60_000);
});
