import { beforeAll, describe, expect, it } from 'vitest';
import type { Ports } from '../../src/app.js';
import { ModelError, type ModelRuntime } from '../../src/inference/model-runtime.js';
import { lineQueryLog } from '../../src/observability/query-log.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoRecords } from '../support/demo-records.js';
import { ortRuntime, testApp } from '../support/node-app.js';
import { json, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const KEY = 'hostile-input-key';
const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(5);
const penguin = records['penguin-species']![0]!;
const car = records['car-mpg']![0]!;

async function setup(env: Record<string, string> = {}, ports: Partial<Ports> = {}) {
  const { store } = await tempStore();
  await seedDemo(store, KEY);
  const t = testApp(store, env, ports);
  const post = async (path: string, body: unknown, headers: Record<string, string> = auth) => {
    const res = await t.app.request(`/public/api/v1/demo/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const serviceJson = async () => JSON.parse(new TextDecoder().decode((await store.get('services/demo/service.json'))!.body)) as Json;
  return { ...t, store, post, serviceJson };
}

/** A JSON text nested `depth` levels deep, built without recursion. */
const nested = (depth: number) => '{"features": {"a": ' + '['.repeat(depth) + ']'.repeat(depth) + '}}';

describe('a body nested too deep', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  const lines: string[] = [];
  beforeAll(async () => {
    // The stdout sink, which stringifies every line.
    t = await setup({}, { queryLog: lineQueryLog((chunk) => void lines.push(chunk)) });
  });

  it('is refused at parse with 400 INVALID_JSON, not a 500 from the query log', async () => {
    const res = await t.post('penguin-species/predict', nested(5000));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errorType: 'INVALID_JSON', message: expect.stringMatching(/64 levels/) });
  });

  it('is accepted up to the limit, 64 levels', async () => {
    const body = (arrays: number) => '{"features": {"a": ' + '['.repeat(arrays) + ']'.repeat(arrays) + '}, "dispatch": {"forcedGeneration": "v2"}}';
    // The body (1), features (2), then the arrays.
    expect((await t.post('penguin-species/predict', body(62))).status).toBe(200);
    expect((await t.post('penguin-species/predict', body(63))).status).toBe(400);
  });

  it('is refused in a query parameter too', async () => {
    const deep = encodeURIComponent('['.repeat(3000) + ']'.repeat(3000));
    const res = await t.app.request(`/public/api/v1/demo/sum/run?a=${deep}&b=1`, { headers: auth });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).errorType).toBe('INVALID_REQUEST');
  });

  it('ignores brackets inside strings when counting levels', async () => {
    const features = { ...penguin, note: '['.repeat(5000) };
    expect((await t.post('penguin-species/predict', { features })).status).toBe(200);
  });
});

describe('non-finite numbers', () => {
  let t: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    t = await setup();
  });

  for (const gen of ['v1', 'v2']) {
    it(`refuse a feature that overflows the model's float32 input on predict (${gen})`, async () => {
      for (const value of [1e308, '1e308', 1e39, -1e39]) {
        const res = await t.post('penguin-species/predict', { features: { ...penguin, beak_length_mm: value }, dispatch: { forcedGeneration: gen } });
        expect(res.status, `${gen} ${value}`).toBe(400);
        // Out of float32 range once encoded, or (1e39 scaled down on v1) so large the model answers NaN.
        expect(res.body).toMatchObject({ errorType: 'INVALID_RECORD', message: expect.stringMatching(/beak_length_mm|model's output .* not a finite number/) });
      }
    });

    it(`ignore only that record in predict-multi (${gen})`, async () => {
      const items = [{ features: penguin }, { features: { ...penguin, beak_length_mm: 1e308 } }];
      const res = await t.post('penguin-species/predict-multi', { items, dispatch: { forcedGeneration: gen } });
      expect(res.status).toBe(200);
      expect(res.body.results[0]).toMatchObject({ ignored: false, prediction: expect.any(String) });
      expect(res.body.results[1]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/beak_length_mm/) });
    });
  }

  it('are refused before explanations are computed', async () => {
    const res = await t.post('flight-delayed/predict', { features: { ...records['flight-delayed']![0]!, distance: 1e300 }, explanations: { enabled: true }, dispatch: { forcedGeneration: 'v2' } });
    expect(res.status).toBe(400);
    expect(res.body.errorType).toBe('INVALID_RECORD');
  });

  it('never answer a null prediction or null probabilities', async () => {
    const items = [1e30, 3e38, 1e308].map((v) => ({ features: { ...car, weight_lbs: v } }));
    for (const gen of ['v1', 'v2']) {
      const res = await t.post('car-mpg/predict-multi', { items, dispatch: { forcedGeneration: gen } });
      expect(res.status).toBe(200);
      for (const r of res.body.results as Json[]) {
        if (r.ignored) expect(r.ignoreReason).toEqual(expect.any(String));
        else expect(r.prediction).toEqual(expect.any(Number));
      }
    }
  });

  it('refuse a treatment-effect record on predict-effect and ignore it in predict-effect-multi', async () => {
    const bad = { ...car, weight_lbs: 1e308 };
    const one = await t.post('car-eco-tuning/predict-effect', { features: bad });
    expect(one.status).toBe(400);
    expect(one.body.errorType).toBe('INVALID_RECORD');
    const multi = await t.post('car-eco-tuning/predict-effect-multi', { items: [{ features: car }, { features: bad }] });
    expect(multi.status).toBe(200);
    expect(multi.body.results[0]).toMatchObject({ ignored: false, prediction: expect.any(Number) });
    expect(multi.body.results[1]).toEqual({ ignored: true, ignoreReason: expect.any(String) });
  });

  it('ignore a forecast series whose forecast is not finite, and keep the others', async () => {
    const months = ['Apr 1 2009', 'May 1 2009', 'Jun 1 2009', 'Jul 1 2009', 'Aug 1 2009', 'Sep 1 2009', 'Oct 1 2009', 'Nov 1 2009', 'Dec 1 2009', 'Jan 1 2010', 'Feb 1 2010', 'Mar 1 2010'];
    const rows = (symbol: string, price: (i: number) => number) => months.map((date, i) => ({ symbol, date, price: price(i) }));
    // Relative to the last value, 1e308 then 1 is a jump float32 cannot hold.
    const items = [...rows('OK', (i) => 20 + i), ...rows('HUGE', (i) => (i === 0 ? 1e308 : 1))];
    const res = await t.post('stock-forecast/forecast', { items, dispatch: { forcedGeneration: 'v2' } });
    expect(res.status).toBe(200);
    const huge = (res.body.results as Json[]).filter((r) => r.timeseriesIdentifier.symbol === 'HUGE');
    expect(huge).toEqual([{ timeseriesIdentifier: { symbol: 'HUGE' }, ignored: true, ignoreReason: expect.any(String) }]);
    expect((res.body.results as Json[]).filter((r) => r.timeseriesIdentifier.symbol === 'OK' && !r.ignored)).toHaveLength(3);
  });
});

describe('a model that answers non-finite numbers', () => {
  /** The real model, with the output of the first row replaced by NaN / Infinity. */
  const poisoned = (value: number): ModelRuntime => ({
    async load(bytes) {
      const s = await ortRuntime.load(bytes);
      return {
        inputs: s.inputs,
        outputs: s.outputs,
        release: () => s.release(),
        run: async (feeds, fetches) => {
          const out = await s.run(feeds, fetches);
          for (const t of Object.values(out)) if (t.data instanceof Float32Array || t.data instanceof Float64Array) t.data[0] = value;
          return out;
        },
      };
    },
  });

  it('gives 400 on predict and an ignored record on predict-multi, whatever the kind', async () => {
    for (const value of [NaN, Infinity]) {
      const t = await setup({}, { models: poisoned(value) });
      for (const [endpoint, features] of [['penguin-species', penguin], ['car-mpg', car]] as const) {
        const one = await t.post(`${endpoint}/predict`, { features, dispatch: { forcedGeneration: 'v2' } });
        expect(one.status, `${endpoint} ${value}`).toBe(400);
        expect(one.body).toMatchObject({ errorType: 'INVALID_RECORD', message: expect.stringMatching(/model/) });
        const multi = await t.post(`${endpoint}/predict-multi`, { items: [{ features }, { features }], dispatch: { forcedGeneration: 'v2' } });
        expect(multi.status).toBe(200);
        expect(multi.body.results[0]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/not a finite number/) });
        expect(multi.body.results[1].ignored).toBe(false);
      }
      const effect = await t.post('car-eco-tuning/predict-effect', { features: car });
      expect(effect.status).toBe(400);
    }
  });

  it('ignores the record whose explanation is not finite', async () => {
    const t = await setup({}, { models: poisoned(NaN) });
    const features = records['flight-delayed']![0]!;
    // Row 0 of the explanation run is the record itself: its contributions are NaN.
    const res = await t.post('flight-delayed/predict-multi', { items: [{ features }, { features }], explanations: { enabled: true }, dispatch: { forcedGeneration: 'v2' } });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/not a finite number/) });
    // Record 1 scores, but its own row comes first in the explanation run: poisoned too.
    expect(res.body.results[1]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/cannot be explained/) });
  });
});

describe('the query log', () => {
  it('caps each logged value, marking what it cut, and still answers in full', async () => {
    const t = await setup({ APINODE_QUERY_LOG_MAX_FIELD_BYTES: '1024' });
    const note = 'x'.repeat(1_000_000);
    const res = await t.post('penguin-species/predict', { features: { ...penguin, note }, context: { small: true } });
    expect(res.status).toBe(200);
    expect(t.logged).toHaveLength(1);
    const line = t.logged[0]!;
    expect(line.features).toEqual({ truncated: true, bytes: expect.any(Number) });
    expect((line.features as Json).bytes).toBeGreaterThan(1_000_000);
    expect(line.context).toEqual({ small: true });
    expect(line.result).toEqual(res.body.result);
    expect(JSON.stringify(line).length).toBeLessThan(4096);
  });

  it('caps at 16 KiB per value by default', async () => {
    const t = await setup();
    await t.post('penguin-species/predict', { features: { ...penguin, note: 'y'.repeat(17 * 1024) } });
    expect(t.logged[0]!.features).toEqual({ truncated: true, bytes: expect.any(Number) });
    await t.post('penguin-species/predict', { features: { ...penguin, note: 'y'.repeat(15 * 1024) } });
    expect((t.logged[1]!.features as Json).note).toHaveLength(15 * 1024);
  });
});

describe('function arguments', () => {
  it('are passed as sent, even a string that looks like an internal marker', async () => {
    const t = await setup();
    const res = await t.post('sum/run', { a: '\u0000apinode:undefined', b: 1 });
    expect(res.status).toBe(200);
    expect(res.body.response).toBe('\u0000apinode:undefined1');
  });
});

describe('fault statuses', () => {
  it('answers 503 SERVICE_CONFIG_INVALID for a corrupt service.json with nothing cached', async () => {
    const t = await setup();
    await t.store.put('services/demo/service.json', new TextEncoder().encode('{"serviceId": "demo", '));
    const res = await t.post('car-mpg/predict', { features: car });
    expect(res.status).toBe(503);
    expect(res.body.errorType).toBe('SERVICE_CONFIG_INVALID');
    await t.store.put('services/demo/service.json', json({ serviceId: 'demo', enabled: 'yes' }));
    expect((await t.post('car-mpg/predict', { features: car })).status).toBe(503);
  });

  it('answers 503 GENERATION_MISSING when the mapping chose a generation that is not there', async () => {
    const t = await setup();
    const cfg = await t.serviceJson();
    await t.store.put('services/demo/service.json', json({ ...cfg, mapping: { mode: 'SPLIT', entries: [{ generation: 'v1', proba: 0 }, { generation: 'gone', proba: 1 }] } }));
    const chosen = await t.post('car-mpg/predict', { features: car });
    expect(chosen.status).toBe(503);
    expect(chosen.body.errorType).toBe('GENERATION_MISSING');
    // Forced by the caller: still the caller's 404, mapped or not.
    const forced = await t.post('car-mpg/predict', { features: car, dispatch: { forcedGeneration: 'gone' } });
    expect(forced.status).toBe(404);
    expect(forced.body.errorType).toBe('GENERATION_NOT_FOUND');
    const unmapped = await t.post('car-mpg/predict', { features: car, dispatch: { forcedGeneration: 'v9' } });
    expect(unmapped.status).toBe(404);
  });

  it('answers a model that fails to run with 500 MODEL_RUN_FAILED, its runtime\'s words logged only', async () => {
    const raw = 'failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: /onnxruntime_src/core/gemm_helper.h:14 bad';
    const failing: ModelRuntime = {
      async load(bytes) {
        const s = await ortRuntime.load(bytes);
        return { ...s, release: () => s.release(), run: async () => Promise.reject(new ModelError('onnxruntime failed to run the model: bad', { cause: new Error(raw) })) };
      },
    };
    const t = await setup({}, { models: failing });
    const res = await t.post('car-mpg/predict', { features: car });
    expect(res.status).toBe(500);
    expect(res.body.errorType).toBe('MODEL_RUN_FAILED');
    expect(JSON.stringify(res.body)).not.toMatch(/ERROR_CODE|onnxruntime_src|OrtRun/);
  });

  it('never shows the model runtime\'s own words in an answer, and logs them', async () => {
    const raw = "Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: /onnxruntime_src/onnxruntime/core/graph/model.cc:180 bad";
    const failing: ModelRuntime = { load: async () => Promise.reject(new Error(raw)) };
    const warned: unknown[] = [];
    const { store } = await tempStore();
    await seedDemo(store, KEY);
    const log = { info: () => undefined, warn: (_m: string, f?: object) => void warned.push(f), error: (_m: string, f?: object) => void warned.push(f) };
    const t = testApp(store, {}, { models: failing, log });
    const res = await t.app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: auth, body: JSON.stringify({ features: car }) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as Json;
    expect(body.errorType).toBe('MODEL_LOAD_FAILED');
    expect(JSON.stringify(body)).not.toMatch(/ERROR_CODE|onnxruntime_src|create a session/);
    expect(JSON.stringify(warned)).toMatch(/ERROR_CODE: 7/);
  });
});
