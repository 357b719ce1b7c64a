import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelRuntime } from '../../src/inference/model-runtime.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoRecords } from '../support/demo-records.js';
import { ortRuntime, testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

const KEY = 'batching-test-key';
const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(40);

/** The real onnxruntime-web runtime, counting model runs. */
function counting(): { models: ModelRuntime; runs: () => number } {
  let runs = 0;
  const models: ModelRuntime = {
    ...ortRuntime,
    load: async (bytes) => {
      const s = await ortRuntime.load(bytes);
      return { ...s, run: (feeds, fetches) => (runs++, s.run(feeds, fetches)) };
    },
  };
  return { models, runs: () => runs };
}

let store: Awaited<ReturnType<typeof tempStore>>['store'];
beforeAll(async () => {
  store = (await tempStore()).store;
  await seedDemo(store, KEY);
});

async function concurrentPredicts(batching: 'on' | 'off', endpoint: string, gen: string) {
  const { models, runs } = counting();
  const { app } = testApp(store, { APINODE_PREDICT_BATCHING: batching, APINODE_QUERY_LOG: 'off' }, { models });
  const post = (action: string, body: unknown) => app.request(`/public/api/v1/demo/${endpoint}/${action}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const features = records[endpoint]!.slice(0, 24);
  // Independent reference: the same records scored in one predict-multi call.
  const multi = (await (await post('predict-multi', { items: features.map((f) => ({ features: f })), dispatch: { forcedGeneration: gen } })).json()) as { results: unknown[] };
  const before = runs();
  const answers = await Promise.all(features.map((f) => post('predict', { features: f, dispatch: { forcedGeneration: gen } })));
  const bodies = (await Promise.all(answers.map((r) => r.json()))) as { result: unknown; apiContext: { serviceGeneration: string } }[];
  return { statuses: answers.map((r) => r.status), results: bodies.map((b) => b.result), generations: bodies.map((b) => b.apiContext.serviceGeneration), reference: multi.results, runs: runs() - before };
}

describe('micro-batching of concurrent single-record predicts (real onnxruntime-web, demo models)', () => {
  for (const [endpoint, gen] of [['penguin-species', 'v2'], ['car-mpg', 'v1'], ['flight-delayed', 'v2']] as const) {
    it(`${endpoint} ${gen}: 24 concurrent predicts answer what predict-multi answers, in fewer model runs`, async () => {
      const on = await concurrentPredicts('on', endpoint, gen);
      expect(on.statuses.every((s) => s === 200)).toBe(true);
      expect(on.generations.every((g) => g === gen)).toBe(true);
      expect(on.results).toEqual(on.reference);
      expect(on.runs).toBeLessThan(24);
      const off = await concurrentPredicts('off', endpoint, gen);
      expect(off.results).toEqual(off.reference);
      expect(off.runs).toBe(24);
    });
  }

  it('an unusable record in a coalesced batch is that caller\'s 400; the others are scored', async () => {
    const { app } = testApp(store, { APINODE_QUERY_LOG: 'off' });
    const post = (features: unknown) =>
      app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: auth, body: JSON.stringify({ features, dispatch: { forcedGeneration: 'v1' } }) });
    const good = records['car-mpg']!.slice(0, 6);
    const bad = { ...good[0], weight_lbs: 'heavy' };
    const answers = await Promise.all([...good.slice(0, 3).map(post), post(bad), ...good.slice(3).map(post)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 400, 200, 200, 200]);
    expect(((await answers[3]!.json()) as { errorType: string }).errorType).toBe('INVALID_RECORD');
  });
});
