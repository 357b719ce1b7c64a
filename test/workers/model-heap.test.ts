/**
 * onnxruntime's WebAssembly heap on Workers (issue 15): worker.ts watches it (the shared memory
 * ORT passes to its one WebAssembly.instantiate call) and caps it (APINODE_MODEL_MAX_MEMORY_MIB,
 * 64 MiB when unset), in real workerd on the deployable bundle. The heap is read from outside
 * over the V8 inspector, as test/bench/workers.ts does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { packTarGz } from '../../src/services/archive.js';
import { layout } from '../../src/storage/layout.js';
import { allocatingModel, xManifest } from '../support/hostile-models.js';
import { json } from '../support/stores.js';
import { buildWorker, startWorkerd, type WorkerBundle, type Workerd } from './workerd.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const MiB = 2 ** 20;
const ADMIN_KEY = 'workers-model-heap-admin-key-0123456789';

/** The sizes (MiB) of the isolate's WebAssembly memories and its JS heap, read over the V8 inspector. */
async function isolateMiB(w: Workerd): Promise<{ js: number; wasm: number[] }> {
  const ws = new WebSocket(`${(await w.mf.getInspectorURL()).href}core:user:apinode`);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  const messages: Json[] = [];
  const waiting: (() => void)[] = [];
  ws.on('message', (m) => {
    messages.push(JSON.parse(String(m)) as Json);
    waiting.splice(0).forEach((wake) => wake());
  });
  const next = async (match: (d: Json) => boolean): Promise<Json> => {
    for (;;) {
      const d = messages.find(match);
      if (d) return d;
      await new Promise<void>((wake) => waiting.push(wake));
    }
  };
  let id = 0;
  const call = async (method: string, params: object = {}): Promise<Json> => {
    const mine = ++id;
    ws.send(JSON.stringify({ id: mine, method, params }));
    const d = await next((d) => d.id === mine);
    if (d.error) throw new Error(JSON.stringify(d.error));
    return d.result as Json;
  };
  try {
    await call('Runtime.enable');
    const contextId = (await next((d) => d.method === 'Runtime.executionContextCreated')).params.context.id as number;
    const usage = await call('Runtime.getHeapUsage');
    const proto = await call('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype', contextId });
    const memories = await call('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId });
    const sizes = await call('Runtime.callFunctionOn', { objectId: memories.objects.objectId, functionDeclaration: 'function () { return this.map((m) => m.buffer.byteLength); }', returnByValue: true });
    return { js: usage.usedSize / MiB, wasm: (sizes.result.value as number[]).map((b) => b / MiB) };
  } finally {
    ws.close();
  }
}

/** A regression endpoint "m", no examples: imports run it on three generated records. */
const manifest = (generation: string) => json(xManifest(generation));

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await buildWorker();
}, 120_000);

/** A workerd serving "lab/m" on the model that allocates x floats (4x bytes) at run time. */
async function serving(vars: Record<string, string>) {
  const w = await startWorkerd(bundle, { inspect: true, vars: { APINODE_QUERY_LOG: 'off', ...vars } });
  await w.store.put(layout.file('lab', 'g1', 'models/m.onnx'), allocatingModel('x'));
  await w.store.put(layout.manifest('lab', 'g1'), manifest('g1'));
  await w.store.put(layout.service('lab'), json({ serviceId: 'lab', enabled: true, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
  const predict = async (x: number) => {
    const res = await w.fetch('/public/api/v1/lab/m/predict', { method: 'POST', body: JSON.stringify({ features: { x } }) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  return { w, predict };
}

describe("onnxruntime's heap on workerd is capped", () => {
  const opened: Workerd[] = [];
  afterAll(() => Promise.all(opened.map((w) => w.close())));

  it('at 64 MiB when APINODE_MODEL_MAX_MEMORY_MIB is unset: a run needing 114 MiB answers 503 and the next run 200, the heap stays under the cap', async () => {
    const { w, predict } = await serving({});
    opened.push(w);
    expect(await predict(3)).toMatchObject({ status: 200, body: { result: { prediction: 3 } } });
    // 1e7 floats (38 MiB) fit under the cap.
    expect(await predict(1e7)).toMatchObject({ status: 200, body: { result: { prediction: 1e7 } } });
    // 3e7 floats (114 MiB) do not: onnxruntime's allocation fails (std::bad_alloc), typed as resources.
    expect(await predict(3e7)).toMatchObject({ status: 503, body: { errorType: 'MODEL_RUNTIME_ERROR', message: 'The model runtime could not allocate what this request needs' } });
    expect(await predict(4)).toMatchObject({ status: 200, body: { result: { prediction: 4 } } });
    const { wasm, js } = await isolateMiB(w);
    // onnxruntime's heap (the only shared memory; QuickJS has not started) and nothing above the cap.
    expect(wasm.length, JSON.stringify(wasm)).toBe(1);
    expect(wasm[0]).toBeGreaterThan(38);
    expect(wasm[0]).toBeLessThanOrEqual(64);
    expect(wasm[0]! + js).toBeLessThan(128);
  }, 120_000);

  it('at APINODE_MODEL_MAX_MEMORY_MIB when set: at 1024 the same run answers 200 and leaves a heap the 128 MB isolate could not hold', async () => {
    const { w, predict } = await serving({ APINODE_MODEL_MAX_MEMORY_MIB: '1024' });
    opened.push(w);
    expect(await predict(3e7)).toMatchObject({ status: 200, body: { result: { prediction: 3e7 } } });
    const { wasm } = await isolateMiB(w);
    expect(wasm.length, JSON.stringify(wasm)).toBe(1);
    expect(wasm[0]).toBeGreaterThan(114);
  }, 120_000);
});

describe('imports on workerd are held to APINODE_IMPORT_MODEL_MAX_MEMORY_MIB', () => {
  let w: Workerd;
  const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await w.fetch(`/admin/api${path}`, { method, headers: admin, ...(body === undefined ? {} : { body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const importGen = (gen: string, onnx: Uint8Array) =>
    call('POST', '/services/h/generations', packTarGz(new Map([['manifest.json', manifest(gen)], ['models/m.onnx', onnx]])));

  beforeAll(async () => {
    const vars = { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN_KEY, APINODE_QUERY_LOG: 'off', APINODE_CONFIG_TTL_S: '0', APINODE_IMPORT_MODEL_MAX_MEMORY_MIB: '20' };
    w = await startWorkerd(bundle, { inspect: true, vars });
    expect((await call('POST', '/services', { serviceId: 'h' })).status).toBe(201);
  }, 120_000);
  afterAll(() => w?.close());

  it('records the heap growth of an accepted import, and refuses one that grows it past the budget, naming the figure', async () => {
    const ok = await importGen('g1', allocatingModel([1000]));
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const stored = JSON.parse(new TextDecoder().decode((await w.store.get(layout.manifest('h', 'g1')))!.body)) as Json;
    // The first model of the isolate: onnxruntime's initial 16 MiB, measured (null before: the heap was not seen on Workers).
    expect(stored.importChecks.m).toMatchObject({ examples: 3, generated: true, memoryMiB: 16 });

    // 6 Mi floats: 24 MiB for one tensor, under the 64 MiB cap, over the 20 MiB budget.
    const res = await importGen('g2', allocatingModel([6 * MiB]));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errorType).toBe('INVALID_GENERATION');
    const mib = Number(/endpoint "m": scoring its examples needed (\d+) MiB of model-runtime memory, more than the import's budget of 20 MiB \(APINODE_IMPORT_MODEL_MAX_MEMORY_MIB\)/.exec(res.body.message)?.[1]);
    expect(mib, res.body.message).toBeGreaterThanOrEqual(24);

    // Past the cap (32 Mi floats, 128 MiB): the check's run fails inside onnxruntime, the import is refused and the isolate serves on.
    const over = await importGen('g3', allocatingModel([32 * MiB]));
    expect(over.status, JSON.stringify(over.body)).toBe(400);
    expect(over.body.errorType).toBe('INVALID_GENERATION');
    // onnxruntime folds the constant when it loads the model: the load is what fails.
    expect(over.body.message).toMatch(/endpoint "m": the model cannot be loaded: .*std::bad_alloc/);
    expect((await call('GET', '/services/h/generations')).body.generations.map((g: Json) => g.generation)).toEqual(['g1']);
    const { wasm } = await isolateMiB(w);
    expect(wasm.length, JSON.stringify(wasm)).toBe(1);
    expect(wasm[0]).toBeLessThanOrEqual(64);
  }, 120_000);
});
