import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, adminTestApp } from '../support/admin-app.js';
import { demoRecords } from '../support/demo-records.js';

/**
 * Properties of the whole user and admin API, through app.request: random requests never get a
 * 500, a non-JSON error or a hang; random concurrent admin operations never lose an
 * acknowledged change. A fixed seed and a bounded number of runs in `npm test`;
 * APINODE_PROPERTY_RUNS raises them (.ci/run does).
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const RUNS = Number(process.env.APINODE_PROPERTY_RUNS ?? '60');
const SEED = Number(process.env.APINODE_PROPERTY_SEED ?? '20261202');
const HANG_MS = 10_000;

const demoAuth = { Authorization: `Basic ${btoa('demo-key:')}` };
const SEGMENTS = ['demo', 'penguin-species', 'car-mpg', 'flight-delayed', 'sum', 'cars-by-origin', 'car-specs', 'stock-forecast', 'car-eco-tuning', 'penguin-dispatcher',
  'predict', 'predict-multi', 'predict-simple', 'predict-effect', 'run', 'query', 'lookup', 'lookup-multi', 'forecast', 'services', 'keys', 'key', 'generations',
  'actions', 'setMapping', 'enable', 'disable', 'switchTo', 'v1', 'v2', 'v9', 'preload', 'metrics', 'model-cache', 'cors', 'models', 'infer', 'health', 'ready', 'openapi.json', ''];
const segment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) });
const ENDPOINTS = ['penguin-species', 'car-mpg', 'flight-delayed', 'penguin-clusters', 'sum', 'cars-by-origin', 'car-specs', 'car-mpg-by-name', 'stock-forecast', 'car-eco-tuning', 'penguin-dispatcher'];
const ACTIONS = ['predict', 'predict-multi', 'predict-simple', 'predict-effect', 'predict-effect-multi', 'run', 'query', 'lookup', 'lookup-multi', 'lookup-simple', 'forecast'];
const anyPath = fc.tuple(fc.constantFrom('/public/api/v1', '/admin/api', '/oip', ''), fc.array(segment, { minLength: 0, maxLength: 5 })).map(([p, s]) => `${p}/${s.join('/')}`);
/** Mostly real endpoints and actions, so most requests reach a kind's scoring, not a 404. */
const PAIRS = ['penguin-species/predict', 'penguin-species/predict-multi', 'car-mpg/predict', 'car-mpg/predict-multi', 'flight-delayed/predict', 'penguin-clusters/predict-multi', 'car-eco-tuning/predict-effect', 'sum/run', 'stock-forecast/forecast'];
const userPath = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...PAIRS), fc.constantFrom('', '/')).map(([p, slash]) => `/public/api/v1/demo/${p}${slash}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('demo', 'demo', 'nope'), fc.constantFrom(...ENDPOINTS), fc.constantFrom(...ACTIONS), fc.constantFrom('', '/')).map(([s, e, a, slash]) => `/public/api/v1/${s}/${e}/${a}${slash}`) },
);
// Admin requests change a scratch service, so that the demo keeps serving the user-API requests.
const adminPath = fc.tuple(fc.constantFrom('services', 'services/scratch', 'services/scratch/keys', 'services/scratch/generations', 'keys', 'metrics', 'services/scratch/actions/setMapping', 'services/scratch/actions/switchTo/v9', 'services/demo/keys'), fc.constantFrom('', '/')).map(([p, slash]) => `/admin/api/${p}${slash}`);
const oipPath = fc.tuple(fc.constantFrom(...ENDPOINTS), fc.constantFrom('', '/infer', '/ready', '/versions/v1', '/versions/v9/infer')).map(([e, a]) => `/oip/demo/v2/models/${e}${a}`);
const path = fc.oneof({ weight: 5, arbitrary: userPath }, { weight: 2, arbitrary: adminPath }, { weight: 1, arbitrary: oipPath }, { weight: 2, arbitrary: anyPath });
const features = fc.dictionary(fc.oneof(fc.constantFrom('island', 'beak_length_mm', 'sex', 'mpg', 'a', 'b', 'origin', 'Name'), fc.string()), fc.oneof(fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.jsonValue()));
const records = demoRecords(4);
const real = Object.values(records).flat();
const body = fc.oneof(
  fc.constant(undefined),
  // Real records of the demo endpoints, alone or in batches: these reach scoring.
  { weight: 3, arbitrary: fc.constantFrom(...real).map((features) => JSON.stringify({ features })) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...real), { minLength: 1, maxLength: 5 }).map((items) => JSON.stringify({ items: items.map((features) => ({ features })) })) },
  fc.json().map((j) => j),
  fc.string(),
  fc.record({ features }).map((b) => JSON.stringify(b)),
  fc.record({ items: fc.array(fc.record({ features }), { maxLength: 4 }), dispatch: fc.option(fc.record({ forcedGeneration: fc.constantFrom('v1', 'v2', 'v9'), dispatchKey: fc.string() }), { nil: undefined }) }).map((b) => JSON.stringify(b)),
  fc.record({ serviceId: fc.string({ maxLength: 20 }), label: fc.option(fc.string()), entries: fc.array(fc.record({ generation: fc.constantFrom('v1', 'v2', 'x'), proba: fc.double() }), { maxLength: 3 }) }).map((b) => JSON.stringify(b)),
);
const headers = fc.record(
  {
    auth: fc.constantFrom<Record<string, string>>({}, demoAuth, demoAuth, demoAuth, adminAuth, adminAuth, { Authorization: 'Bearer not-a-key-at-all' }, { Authorization: 'Basic %%%' }, { Authorization: 'Bearer a.b.c' }),
    type: fc.constantFrom<Record<string, string>>({}, { 'Content-Type': 'application/json' }, { 'Content-Type': 'text/plain' }, { 'Content-Type': 'application/octet-stream' }),
  },
  { requiredKeys: ['auth', 'type'] },
);
const request = fc
  .record({ method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS'), path, body, headers })
  // Deleting the demo service would turn every later user-API request into a 404.
  .filter((r) => !(r.method === 'DELETE' && /^\/admin\/api\/services(\/demo\/?|-clean-unused\/?)$/.test(r.path)));

/** Answers that are not JSON by design: the health check, the docs page and its assets, preflights. */
const notJsonByDesign = (p: string, status: number) => status === 204 || p.startsWith('/isAlive') || p.startsWith('/docs') || p === '/';

describe('random requests to the user and admin API', () => {
  let t: Awaited<ReturnType<typeof adminTestApp>>;
  beforeAll(async () => {
    t = await adminTestApp();
    expect((await t.call('POST', '/services', { serviceId: 'scratch' })).status).toBe(201);
  });

  it('never answer 500, never answer an error that is not JSON, never hang', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const init: RequestInit = { method: r.method, headers: { ...r.headers.auth, ...r.headers.type } };
        if (r.body !== undefined && r.method !== 'GET' && r.method !== 'OPTIONS') init.body = r.body;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${r.method} ${r.path} did not answer in ${HANG_MS} ms`)), HANG_MS)));
        const res = await Promise.race([t.app.request(r.path, init), hang]).finally(() => clearTimeout(timer));
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${r.method} ${r.path} ${text.slice(0, 300)}`).not.toBe(500);
        expect(res.status).toBeLessThan(600);
        if (res.status >= 400 && !notJsonByDesign(r.path, res.status)) {
          expect(res.headers.get('content-type'), `${r.method} ${r.path}`).toContain('json');
          const parsed = JSON.parse(text) as Json;
          // DSS shape, or OIP's {"error"} under /oip.
          expect(typeof parsed.errorType === 'string' || typeof parsed.error === 'string', `${r.method} ${r.path} ${text.slice(0, 200)}`).toBe(true);
        }
      }),
      { numRuns: RUNS * 5, seed: SEED, endOnFailure: true },
    );
    // The requests reached scoring (200s) and validation (400s), not only the router's 404.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 10);
  }, 300_000);
});

type Op = { kind: 'add'; label: string } | { kind: 'revoke'; pick: number } | { kind: 'map'; to: 'v1' | 'v2' | 'split' } | { kind: 'toggle'; enabled: boolean };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map((label) => ({ kind: 'add' as const, label })) },
  { weight: 2, arbitrary: fc.nat(50).map((pick) => ({ kind: 'revoke' as const, pick })) },
  { weight: 2, arbitrary: fc.constantFrom('v1', 'v2', 'split').map((to) => ({ kind: 'map' as const, to })) },
  { weight: 1, arbitrary: fc.boolean().map((enabled) => ({ kind: 'toggle' as const, enabled })) },
);

describe('random concurrent admin operations', () => {
  it('never lose an acknowledged change (checked against an in-memory reference)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 2, maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        const t = await adminTestApp();
        // The reference: keys acknowledged as added and not acknowledged as revoked.
        const live = new Map<string, string>(); // id -> key
        const revoked = new Map<string, string>();
        for (const batch of batches) {
          const ids = [...live.keys()];
          await Promise.all(
            batch.map(async (o) => {
              if (o.kind === 'add') {
                const res = await t.call('POST', '/services/demo/keys', { label: `${o.label}-${Math.random().toString(36).slice(2)}` });
                if (res.status === 201) live.set(res.body.id, res.body.key);
                else expect([409]).toContain(res.status); // CONFLICT after its retries: not acknowledged
              } else if (o.kind === 'revoke' && ids.length) {
                const id = ids[o.pick % ids.length]!;
                const res = await t.call('DELETE', `/services/demo/keys/${id}`);
                if (res.status === 200) {
                  revoked.set(id, live.get(id) ?? revoked.get(id)!);
                  live.delete(id);
                } else expect([404, 409]).toContain(res.status);
              } else if (o.kind === 'map') {
                const body = o.to === 'split' ? { entries: [{ generation: 'v1', proba: 0.5 }, { generation: 'v2', proba: 0.5 }] } : { mode: 'SINGLE_GENERATION', generation: o.to };
                expect([200, 409]).toContain((await t.call('POST', '/services/demo/actions/setMapping', body)).status);
              } else if (o.kind === 'toggle') {
                expect([200, 409]).toContain((await t.call('POST', `/services/demo/actions/${o.enabled ? 'enable' : 'disable'}`)).status);
              }
            }),
          );
        }
        const listed = new Set(((await t.call('GET', '/services/demo/keys')).body.keys as Json[]).map((k) => k.id as string));
        for (const id of live.keys()) expect(listed.has(id), `acknowledged key ${id} was lost`).toBe(true);
        for (const id of revoked.keys()) expect(listed.has(id), `acknowledged revoke of ${id} was undone`).toBe(false);
        // The keys work, or not, as acknowledged (the service is enabled for the check).
        await t.call('POST', '/services/demo/actions/enable');
        for (const key of live.values()) expect((await t.predict('demo', key)).status).toBe(200);
        for (const key of revoked.values()) expect((await t.predict('demo', key)).status).toBe(401);
      }),
      { numRuns: Math.max(3, Math.round(RUNS / 10)), seed: SEED, endOnFailure: true },
    );
  }, 600_000);
});
