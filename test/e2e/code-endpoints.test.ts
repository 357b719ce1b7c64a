import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/observability/logger.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { validateGeneration } from '../../src/services/generation-import.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { readFolder, DEMO_GENERATIONS } from '../support/demo-archive.js';
import { ortRuntime, testApp } from '../support/node-app.js';
import { json, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const KEY = 'code-key';
const auth = { Authorization: `Basic ${btoa(`${KEY}:`)}` };
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const PENGUIN = { island: 'Biscoe', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' };

/** A PUBLIC service "lab" whose one generation holds these modules and endpoints. */
async function lab(store: ObjectStore, modules: Record<string, string>, endpoints: Json[]) {
  for (const [file, text] of Object.entries(modules)) await store.put(layout.file('lab', 'g1', file), new TextEncoder().encode(text));
  await store.put(layout.manifest('lab', 'g1'), json({ formatVersion: 1, generation: 'g1', createdAt: '2026-11-01T00:00:00Z', endpoints }));
  await store.put(layout.service('lab'), json({ serviceId: 'lab', enabled: true, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
}
const fn = (id: string, file: string, text: string, extra: Json = {}) => ({ id, type: 'FUNCTION', function: 'f', code: { file, sha256: sha256(text), ...extra } });

describe('code endpoints, in-process', () => {
  let t: ReturnType<typeof testApp>;
  const lines: Json[] = [];
  const log: Logger = { info: (msg, f) => void lines.push({ level: 'info', msg, ...f }), warn: (msg, f) => void lines.push({ level: 'warn', msg, ...f }), error: (msg, f) => void lines.push({ level: 'error', msg, ...f }) };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) => t.app.request(`/public/api/v1/${path}`, { method: 'POST', headers: { ...headers, 'X-Request-Id': 'req-1' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const { store } = await tempStore();
    await seedDemo(store, KEY);
    const HOG = 'export function f() { const h = []; let a = [1, 2, 3, 4]; for (;;) { h.push(a); a = a.concat(a) } }';
    const LOOP = 'export function f() { for (;;) {} }';
    const THROWS = 'export function f(msg) { throw new Error(msg) }';
    const SNOOP = 'export function f() { return { env: typeof process, fetch: typeof fetch, globals: Object.getOwnPropertyNames(globalThis).filter((k) => !/^[A-Z]/.test(k)).sort() } }';
    const COUNTER = 'let n = 0; export function f() { return ++n }';
    const CHAIN = 'export async function f(depth) { return depth <= 0 ? 0 : 1 + (await apinode.getSelfClient().runFunction("chain", { depth: depth - 1 })).response }';
    await lab(store, { 'code/hog.js': HOG, 'code/loop.js': LOOP, 'code/throws.js': THROWS, 'code/snoop.js': SNOOP, 'code/counter.js': COUNTER, 'code/chain.js': CHAIN, 'code/tampered.js': LOOP }, [
      fn('hog', 'code/hog.js', HOG, { limits: { memoryMiB: 4 } }),
      fn('loop', 'code/loop.js', LOOP, { limits: { cpuTimeMs: 100 } }),
      fn('throws', 'code/throws.js', THROWS),
      fn('snoop', 'code/snoop.js', SNOOP),
      fn('fresh', 'code/counter.js', COUNTER),
      fn('kept', 'code/counter.js', COUNTER, { keepState: true }),
      fn('chain', 'code/chain.js', CHAIN),
      fn('tampered', 'code/tampered.js', 'something else'),
    ]);
    t = testApp(store, {}, { log });
  });

  it('runs a function with POST and GET arguments, DSS-shaped', async () => {
    for (const res of [await post('demo/sum/run', { a: 30, b: 12 }), await t.app.request('/public/api/v1/demo/sum/run?a=30&b=12', { headers: auth })]) {
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      expect(body.response).toBe(42);
      expect(Object.keys(body.timing).sort()).toEqual(['execution', 'functionInternal', 'preProcessing', 'wait']);
      expect(body.apiContext).toEqual({ serviceId: 'demo', endpointId: 'sum', serviceGeneration: expect.stringMatching(/^v[12]$/) });
    }
  });

  it('answers 400 naming a wrong or missing argument', async () => {
    const wrong = await post('demo/sum/run', { a: 1, c: 2 });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ errorType: 'UNKNOWN_ARGUMENT', message: expect.stringContaining('"c"') });
    const missing = await t.app.request('/public/api/v1/demo/sum/run?a=1', { headers: auth });
    expect(await missing.json()).toMatchObject({ errorType: 'MISSING_ARGUMENT', message: expect.stringContaining('"b"') });
  });

  it('lets a dispatcher call other endpoints in-process with the caller\'s credentials, each call logged on its own', async () => {
    t.logged.length = 0;
    const res = await post('demo/penguin-dispatcher/run', { penguin: PENGUIN });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.response).toMatchObject({ species: 'Gentoo', seenOnIsland: true, scoredBy: { endpoint: 'penguin-species', generation: body.apiContext.serviceGeneration } });
    expect(t.logged.map((e) => [e.endpointId, e.requestId])).toEqual([
      ['penguin-species', 'req-1/1'],
      ['penguin-dispatcher', 'req-1'],
    ]);
    expect(t.logged[0]!.caller).toBe(t.logged[1]!.caller);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'user code', requestId: 'req-1', endpointId: 'penguin-dispatcher', message: expect.stringContaining('Gentoo') }));
    expect((await post('demo/penguin-dispatcher/run', { penguin: PENGUIN }, {})).status).toBe(401);
  });

  it('answers a custom prediction like a standard one', async () => {
    const one = await post('demo/penguin-species-by-island/predict', { features: { ...PENGUIN, island: 'Torgersen' } });
    expect(one.status).toBe(200);
    const body = (await one.json()) as Json;
    expect(body.result).toEqual({ ignored: false, prediction: 'Adelie', probas: { Adelie: 1, Chinstrap: 0, Gentoo: 0 } });
    expect(Object.keys(body.timing).sort()).toEqual(['enrich', 'postProcessing', 'preProcessing', 'prediction', 'preparation', 'wait']);
    const multi = await post('demo/penguin-species-by-island/predict-multi', { items: [{ features: PENGUIN }, { features: { ...PENGUIN, island: 'Dream' } }] });
    const results = ((await multi.json()) as Json).results as Json[];
    expect(results.map((r) => r.prediction)).toEqual(['Gentoo', expect.stringMatching(/Adelie|Chinstrap/)]);
    expect(results[1]!.probas.Gentoo).toBe(0);
    const simple = await t.app.request('/public/api/v1/demo/penguin-species-by-island/predict-simple?island=Biscoe&beak_length_mm=48.6&flipper_length_mm=230', { headers: auth });
    expect(simple.status).toBe(200);
    expect((await post('demo/penguin-species-by-island/run', {})).status).toBe(400);
  });

  it('stops code at its CPU and memory limits with an errorType naming the limit', async () => {
    expect(await (await post('lab/loop/run', {}, {})).json()).toMatchObject({ errorType: 'CODE_TIMEOUT' });
    expect(await (await post('lab/hog/run', {}, {})).json()).toMatchObject({ errorType: 'CODE_MEMORY_LIMIT' });
  });

  it("reports the user's exception message, and no node internals", async () => {
    const res = await post('lab/throws/run', { msg: 'no such customer' }, {});
    expect(res.status).toBe(500);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ errorType: 'CODE_ERROR', message: 'no such customer' });
    expect(JSON.stringify(body)).not.toMatch(/src\/|node_modules|quickjs/i);
  });

  it('isolates user code: no env, no network, nothing but ECMAScript, console and apinode', async () => {
    const body = (await (await post('lab/snoop/run', {}, {})).json()) as Json;
    expect(body.response.env).toBe('undefined');
    expect(body.response.fetch).toBe('undefined');
    expect(body.response.globals).not.toContain('process');
    expect(body.response.globals).toEqual(expect.arrayContaining(['apinode', 'console']));
  });

  it('starts each call afresh unless the endpoint keeps its state', async () => {
    const run = async (id: string) => ((await (await post(`lab/${id}/run`, {}, {})).json()) as Json).response;
    expect([await run('fresh'), await run('fresh')]).toEqual([1, 1]);
    expect([await run('kept'), await run('kept')]).toEqual([1, 2]);
  });

  it('bounds self-calls that nest too deep', async () => {
    expect(((await (await post('lab/chain/run', { depth: 3 }, {})).json()) as Json).response).toBe(3);
    const deep = (await (await post('lab/chain/run', { depth: 8 }, {})).json()) as Json;
    expect(deep).toMatchObject({ errorType: 'SELF_CALL_TOO_DEEP', message: expect.stringMatching(/nest deeper/) });
  });

  it('refuses code whose content does not match its recorded hash', async () => {
    expect(await (await post('lab/tampered/run', {}, {})).json()).toMatchObject({ errorType: 'GENERATION_BROKEN' });
  });
});

describe('code endpoints at import', () => {
  const withCode = async (edit: (m: Json, files: Map<string, Uint8Array>) => void) => {
    const files = await readFolder(`${DEMO_GENERATIONS}/v1`);
    const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json'))) as Json;
    edit(m, files);
    files.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
    return validateGeneration(files, ortRuntime).then(() => 'valid', (e: Json) => e.detailedMessage as string);
  };
  const sum = (m: Json) => m.endpoints.find((e: Json) => e.id === 'sum');

  it('accepts the demo generation', async () => {
    expect(await withCode(() => undefined)).toBe('valid');
  });

  it('refuses a changed file, a missing export, wrong parameters or code that does not evaluate', async () => {
    expect(await withCode((_m, f) => f.set('code/sum.js', new TextEncoder().encode('export const sum = 1')))).toMatch(/code\/sum.js has sha256/);
    expect(await withCode((m) => (sum(m).function = 'add'))).toMatch(/does not export a function "add" \(it exports sum\)/);
    expect(await withCode((m) => (sum(m).parameters = ['x', 'y']))).toMatch(/parameters x, y do not match sum\(a, b\)/);
    const broken = 'export function sum( {';
    expect(await withCode((m, f) => (f.set('code/sum.js', new TextEncoder().encode(broken)), (sum(m).code.sha256 = sha256(broken))))).toMatch(/does not evaluate: SyntaxError/);
  });
});
