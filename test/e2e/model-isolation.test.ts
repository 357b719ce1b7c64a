import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { nodeModelRuntime } from '../../src/runtime/node-models.js';
import { packTarGz } from '../../src/services/archive.js';
import { adminTestApp } from '../support/admin-app.js';
import { demoRecords } from '../support/demo-records.js';
import { allocatingModel as allocating, slowModel as slow, slowRunModel, xGeneration } from '../support/hostile-models.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const car = demoRecords(1)['car-mpg']![0]!;

const opened: (() => void)[] = [];
afterEach(() => opened.splice(0).forEach((close) => close()));

/** The node with Node's model runtime: models in a thread (the default), or on the serving thread with APINODE_MODEL_THREADS=0. */
async function setup(env: Record<string, string> = {}) {
  const { models, close } = await nodeModelRuntime(parseConfig(env));
  opened.push(close);
  const t = await adminTestApp(env, { models });
  expect((await t.call('POST', '/services', { serviceId: 'h' })).status).toBe(201);
  expect((await t.call('POST', '/services/h/actions/setAuth', { method: 'PUBLIC' })).status).toBe(200);
  const importGen = (gen: string, onnx: Uint8Array, examples?: Json[]) => t.call('POST', '/services/h/generations', packTarGz(xGeneration(gen, onnx, examples)));
  const predictX = async (x: number) => {
    const res = await t.app.request('/public/api/v1/h/m/predict', { method: 'POST', body: JSON.stringify({ features: { x } }) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  /** The demo's car-mpg predict, timed: what other tenants see while a hostile request runs. */
  const demoPredict = async () => {
    const from = performance.now();
    const res = await t.predict('demo', 'demo-key');
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - from };
  };
  expect((await demoPredict()).status).toBe(200); // loaded: the probes time scoring, not a first load
  return { ...t, importGen, predictX, demoPredict };
}

/** Calls `probe` every 50 ms until `work` settles; returns what work gave and the probes' results. */
async function whileRunning<T, P>(work: Promise<T>, probe: () => Promise<P>): Promise<{ value: T; probes: P[] }> {
  const probes: P[] = [];
  let done = false;
  const loop = (async () => {
    while (!done) {
      probes.push(await probe());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const value = await work.finally(() => (done = true));
  await loop;
  return { value, probes };
}

/**
 * Other requests kept answering: each within 1 s, the median within 200 ms (the bound the issue
 * names; on these shared cores the worker starting onnxruntime competes with the serving thread
 * for CPU, and a stray request waits up to a few hundred ms). A model checked on the serving
 * thread blocks every request for its whole run instead: seconds to minutes here.
 */
function responsive(probes: { status: number; ms: number }[]): void {
  const ms = probes.map((p) => p.ms).sort((a, b) => a - b);
  expect(probes.length).toBeGreaterThan(0);
  expect(probes.every((p) => p.status === 200)).toBe(true);
  expect(ms.at(-1), JSON.stringify(ms)).toBeLessThan(1000);
  expect(ms[Math.floor((ms.length - 1) / 2)], JSON.stringify(ms)).toBeLessThan(200);
}

describe('import runs every model', () => {
  it('runs a model without examples on records generated from its features, and records what it took in manifest.json', async () => {
    const t = await setup();
    const res = await t.importGen('g1', allocating([1000]));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const stored = JSON.parse(new TextDecoder().decode((await t.store.get('services/h/generations/g1/manifest.json'))!.body)) as Json;
    expect(stored.importChecks.m).toMatchObject({ examples: 3, generated: true });
    expect(stored.importChecks.m.ms).toBeGreaterThanOrEqual(0);
    // The model ran in a fresh runtime: at least onnxruntime's initial heap was measured.
    expect(stored.importChecks.m.memoryMiB).toBeGreaterThan(0);
  });

  it('refuses a model whose generated example run allocates more than the memory budget, naming the budget', async () => {
    const t = await setup({ APINODE_IMPORT_MODEL_MAX_MEMORY_MIB: '64' });
    // 192 Mi floats: 768 MiB for one tensor.
    const { value: res, probes } = await whileRunning(t.importGen('g1', allocating([192 * 2 ** 20])), t.demoPredict);
    expect(res.status).toBe(400);
    expect(res.body.errorType).toBe('INVALID_GENERATION');
    expect(res.body.message).toMatch(/endpoint "m".*MiB.*APINODE_IMPORT_MODEL_MAX_MEMORY_MIB/);
    responsive(probes);
    // 24 Mi floats, 96 MiB: under the watch's slack, so the check runs to its end and its heap growth is the figure.
    const measured = await t.importGen('g2', allocating([24 * 2 ** 20]));
    expect(measured.status).toBe(400);
    const mib = Number(/needed (\d+) MiB of model-runtime memory, more than the import's budget of 64 MiB/.exec(measured.body.message)?.[1]);
    expect(mib, measured.body.message).toBeGreaterThanOrEqual(96);
    expect((await t.call('GET', '/services/h/generations')).body.generations).toEqual([]);
  });

  it('refuses, and stops from outside, a model whose example run takes longer than the time budget; other requests keep answering', async () => {
    const t = await setup({ APINODE_IMPORT_MODEL_MAX_MS: '300' });
    const from = performance.now();
    const { value: res, probes } = await whileRunning(t.importGen('g1', slow(1024, 200)), t.demoPredict);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/endpoint "m".*300 ms.*APINODE_IMPORT_MODEL_MAX_MS/);
    // 200 products of 1024² matrices are minutes of work: the import did not wait for them.
    expect(performance.now() - from).toBeLessThan(5_000);
    responsive(probes);
  });
});

describe.each(['1', '0'])('a model that fails at run time (APINODE_MODEL_THREADS=%s)', (threads) => {
  const setupFor = (env: Record<string, string> = {}) => setup({ APINODE_MODEL_THREADS: threads, ...env });
  it('answers MODEL_RUNTIME_ERROR (500 for a bad shape, 503 for an impossible allocation), then serves the next good input', async () => {
    const t = await setupFor();
    expect((await t.importGen('g1', allocating('x'), [{ features: { x: 3 }, expected: { prediction: 3 } }])).status).toBe(201);
    expect((await t.call('POST', '/services/h/actions/switchTo/g1')).status).toBe(200);
    expect(await t.predictX(3)).toMatchObject({ status: 200, body: { result: { prediction: 3 } } });

    const negative = await t.predictX(-5); // ConstantOfShape of a negative size
    expect(negative.status).toBe(500);
    expect(negative.body.errorType).toBe('MODEL_RUNTIME_ERROR');
    expect(JSON.stringify(negative.body)).not.toMatch(/ERROR_CODE|onnxruntime_src|\.cc:/);
    expect(await t.predictX(2)).toMatchObject({ status: 200, body: { result: { prediction: 2 } } });

    const huge = await t.predictX(2e9); // 8 GB: past what a 32-bit WebAssembly heap can hold
    expect(huge.status).toBe(503);
    expect(huge.body.errorType).toBe('MODEL_RUNTIME_ERROR');
    expect(await t.predictX(4)).toMatchObject({ status: 200, body: { result: { prediction: 4 } } });
    // Another service's model never noticed.
    expect((await t.demoPredict()).status).toBe(200);
  });

  it('fails only the request whose input fails the model, when concurrent predicts share its run', async () => {
    const t = await setupFor();
    expect((await t.importGen('g1', allocating('x'), [{ features: { x: 3 }, expected: { prediction: 3 } }])).status).toBe(201);
    expect((await t.call('POST', '/services/h/actions/switchTo/g1')).status).toBe(200);
    const xs = [1, 2, -5, 4, 5, 6];
    const answers = await Promise.all(xs.map((x) => t.predictX(x)));
    answers.forEach((a, i) => {
      if (xs[i]! < 0) expect(a).toMatchObject({ status: 500, body: { errorType: 'MODEL_RUNTIME_ERROR' } });
      else expect(a).toMatchObject({ status: 200, body: { result: { prediction: xs[i] } } });
    });
  });
});

describe('models served from a thread (the default on Node and Lambda)', () => {
  /** /isAlive, timed: the node's own liveness while a model runs. */
  const alive = (t: Awaited<ReturnType<typeof setup>>) => async () => {
    const from = performance.now();
    const res = await t.app.request('/isAlive');
    return { status: res.status, ms: performance.now() - from };
  };

  it('a run allocating a gigabyte from its input delays neither /isAlive nor other predicts; the thread is then replaced and the memory returned', async () => {
    const t = await setup({ APINODE_MODEL_MAX_MEMORY_MIB: '2048' });
    expect((await t.importGen('g1', allocating('x'), [{ features: { x: 3 }, expected: { prediction: 3 } }])).status).toBe(201);
    expect((await t.call('POST', '/services/h/actions/switchTo/g1')).status).toBe(200);
    expect(await t.predictX(3)).toMatchObject({ status: 200 });
    const rss0 = process.memoryUsage.rss();
    let peak = rss0;
    const gib = 2 ** 28; // floats: 1 GiB
    const { value, probes } = await whileRunning(
      t.predictX(gib).finally(() => (peak = Math.max(peak, process.memoryUsage.rss()))),
      async () => {
        peak = Math.max(peak, process.memoryUsage.rss());
        return [await alive(t)(), await t.demoPredict()];
      },
    );
    expect(value).toMatchObject({ status: 200, body: { result: { prediction: gib } } });
    // Other predicts: the first ones queued behind the run, moved to the second model thread after
    // 100 ms, waiting for it to start and load their model (over a second here, where the thread
    // boots through tsx on a loaded machine); the rest answered at once.
    const predicts = probes.map((p) => p[1]!);
    expect(predicts.every((p) => p.status === 200)).toBe(true);
    const ms = predicts.map((p) => p.ms).sort((a, b) => a - b);
    expect(ms.at(-1), JSON.stringify(ms)).toBeLessThan(5_000);
    expect(ms[Math.floor((ms.length - 1) / 2)], JSON.stringify(ms)).toBeLessThan(200);
    const isAlive = probes.map((p) => p[0]!.ms).sort((a, b) => a - b);
    expect(probes.every((p) => p[0]!.status === 200)).toBe(true);
    expect(isAlive[Math.floor((isAlive.length - 1) / 2)], JSON.stringify(isAlive)).toBeLessThan(100);
    expect(isAlive.at(-1), JSON.stringify(isAlive)).toBeLessThan(1_000);
    expect(peak - rss0).toBeGreaterThan(900 * 2 ** 20);
    // The run grew its thread's heap past APINODE_MODEL_RECYCLE_MIB: the thread is replaced once
    // a new one holds the model, and what the run took comes back.
    let rss = Infinity;
    for (let i = 0; i < 100 && rss - rss0 > 300 * 2 ** 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rss = process.memoryUsage.rss();
    }
    expect(rss - rss0, `RSS before ${rss0 >> 20} MiB, peak ${peak >> 20} MiB, after ${rss >> 20} MiB`).toBeLessThan(300 * 2 ** 20);
    expect(await t.predictX(5)).toMatchObject({ status: 200, body: { result: { prediction: 5 } } });
  });

  it('a run past its memory cap is a 503 at once, not gigabytes: 9e8 floats (3.6 GB) against the default 1,024 MiB', async () => {
    const t = await setup();
    expect((await t.importGen('g1', allocating('x'), [{ features: { x: 3 }, expected: { prediction: 3 } }])).status).toBe(201);
    expect((await t.call('POST', '/services/h/actions/switchTo/g1')).status).toBe(200);
    const rss0 = process.memoryUsage.rss();
    const from = performance.now();
    const res = await t.predictX(9e8);
    expect(res).toMatchObject({ status: 503, body: { errorType: 'MODEL_RUNTIME_ERROR' } });
    expect(performance.now() - from).toBeLessThan(2_000);
    expect(process.memoryUsage.rss() - rss0).toBeLessThan(1100 * 2 ** 20);
    expect(await t.predictX(6)).toMatchObject({ status: 200, body: { result: { prediction: 6 } } });
  });

  it('a run longer than APINODE_MODEL_RUN_MAX_MS is answered 503 at that time, its thread ended; the model serves the next input', async () => {
    const t = await setup({ APINODE_MODEL_RUN_MAX_MS: '500' });
    // Its examples (x = 1) and generated records (x near 0) are instant; x = 2,000 is minutes.
    expect((await t.importGen('g1', slowRunModel(100), [{ features: { x: 1 }, expected: { prediction: 1 } }])).status).toBe(201);
    expect((await t.call('POST', '/services/h/actions/switchTo/g1')).status).toBe(200);
    const from = performance.now();
    const { value: res, probes } = await whileRunning(t.predictX(2000), alive(t));
    expect(res).toMatchObject({ status: 503, body: { errorType: 'MODEL_RUNTIME_ERROR' } });
    expect(res.body.detailedMessage).toMatch(/APINODE_MODEL_RUN_MAX_MS/);
    expect(performance.now() - from).toBeLessThan(3_000);
    expect(probes.every((p) => p.status === 200 && p.ms < 1000)).toBe(true);
    expect(await t.predictX(2)).toMatchObject({ status: 200, body: { result: { prediction: 2 } } });
    expect((await t.demoPredict()).status).toBe(200);
  });
});

describe('the batch cap', () => {
  it('answers 400 for a predict-multi or OIP batch over APINODE_MAX_BATCH_RECORDS, and scores one at the cap', async () => {
    const t = await setup({ APINODE_MAX_BATCH_RECORDS: '5' });
    const multi = (n: number) =>
      t.app.request('/public/api/v1/demo/car-mpg/predict-multi', { method: 'POST', headers: { Authorization: 'Bearer demo-key' }, body: JSON.stringify({ items: Array.from({ length: n }, () => ({ features: car })) }) });
    const over = await multi(6);
    expect(over.status).toBe(400);
    const body = (await over.json()) as Json;
    expect(body.errorType).toBe('INVALID_REQUEST');
    expect(body.message).toMatch(/6 records.*at most 5/);
    expect(body.detailedMessage).toMatch(/APINODE_MAX_BATCH_RECORDS/);
    const at = await multi(5);
    expect(at.status).toBe(200);
    expect(((await at.json()) as Json).results).toHaveLength(5);

    const oip = await t.app.request('/oip/demo/v2/models/car-mpg/infer', {
      method: 'POST',
      headers: { Authorization: 'Bearer demo-key' },
      body: JSON.stringify({ inputs: Object.entries(car).map(([name, v]) => ({ name, shape: [6], datatype: typeof v === 'number' ? 'FP64' : 'BYTES', data: Array(6).fill(v) })) }),
    });
    expect(oip.status).toBe(400);
    expect(JSON.stringify(await oip.json())).toMatch(/at most 5/);
  });
});
