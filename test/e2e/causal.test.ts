import { beforeAll, describe, expect, it } from 'vitest';
import { treatmentOf, trueEffect } from '../../examples/demo-build/causal.js';
import { cars } from '../../examples/demo-build/datasets.js';
import { loadReferenceAs, referenceEffect, type CausalReference } from '../../examples/reference-scorer.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { validateGeneration } from '../../src/services/generation-import.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { ortRuntime, testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ref = loadReferenceAs<CausalReference>('v1', 'car-eco-tuning');
const records = cars().records;
const headers = { Authorization: 'Bearer causal-test-key' };
let t: ReturnType<typeof testApp>;

beforeAll(async () => {
  const { store } = await tempStore();
  await seedDemo(store, 'causal-test-key');
  t = testApp(store);
});

const post = async (action: string, body: unknown) => {
  const res = await t.app.request(`/public/api/v1/demo/car-eco-tuning/${action}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
};
const present = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));

describe('predict-effect on a STD_CAUSAL_PREDICTION endpoint', () => {
  it('answers the effect and both potential outcomes as the trained T-learner computes them', async () => {
    const features = present(records[42]!);
    const { status, body } = await post('predict-effect', { features, dispatch: { forcedGeneration: 'v1' } });
    expect(status).toBe(200);
    const want = referenceEffect(ref, features);
    expect(body.result.ignored).toBe(false);
    expect(body.result.prediction).toBeCloseTo(want.prediction, 3);
    expect(body.result.outcomeTreated).toBeCloseTo(want.outcomeTreated, 3);
    expect(body.result.outcomeControl).toBeCloseTo(want.outcomeControl, 3);
    expect(body.apiContext).toEqual({ serviceId: 'demo', endpointId: 'car-eco-tuning', serviceGeneration: 'v1' });
    for (const k of ['preProcessing', 'wait', 'enrich', 'preparation', 'prediction', 'postProcessing']) expect(Number.isInteger(body.timing[k])).toBe(true);
  });

  it('recovers the known average effect of the semi-synthetic treatment, which the naive comparison gets wrong', async () => {
    const items = records.map((r) => ({ features: present(r) }));
    const { status, body } = await post('predict-effect-multi', { items });
    expect(status).toBe(200);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    body.results.forEach((r: Json, i: number) => expect(Math.abs(r.prediction - referenceEffect(ref, items[i]!.features).prediction)).toBeLessThan(1e-3));
    const estimated = mean(body.results.map((r: Json) => r.prediction));
    const truth = mean(records.map(trueEffect));
    expect(Math.abs(estimated - truth)).toBeLessThan(0.5);
    // Heavy cars are both treated more often and less economical: comparing the arms' means is badly biased.
    const treated = treatmentOf(records);
    const outcome = cars().target.map((mpg, i) => Number(mpg) + (treated[i] ? trueEffect(records[i]!) : 0));
    const naive = mean(outcome.filter((_, i) => treated[i])) - mean(outcome.filter((_, i) => !treated[i]));
    expect(Math.abs(naive - truth)).toBeGreaterThan(3);
  });

  it('ignores an unusable record in predict-effect-multi, and answers 400 for it in predict-effect', async () => {
    const good = present(records[1]!);
    const { body } = await post('predict-effect-multi', { items: [{ features: good }, { features: { ...good, weight_lbs: 'heavy' } }] });
    expect(body.results[0].ignored).toBe(false);
    expect(body.results[1]).toEqual({ ignored: true, ignoreReason: expect.stringContaining('weight_lbs') });
    const single = await post('predict-effect', { features: { weight_lbs: 'heavy' } });
    expect(single.status).toBe(400);
    expect(single.body.errorType).toBe('INVALID_RECORD');
    const wrong = await t.app.request('/public/api/v1/demo/car-mpg/predict-effect', { method: 'POST', headers, body: JSON.stringify({ features: good }) });
    expect(wrong.status).toBe(400);
  });
});

describe('importing forecasting and causal endpoints', () => {
  it('accepts the demo generation: the models load and the examples score as declared', async () => {
    const v = await validateGeneration(await demoGenerationAs('v2', 'v9', '2026-11-20T00:00:00Z'), ortRuntime);
    expect(v.manifest.endpoints.map((e) => e.type)).toEqual(expect.arrayContaining(['STD_FORECAST', 'STD_CAUSAL_PREDICTION']));
  });

  it('rejects examples that the models do not answer, saying which', async () => {
    const files = await demoGenerationAs('v2', 'v9', '2026-11-20T00:00:00Z', (m) => {
      const byId = (id: string) => m.endpoints.find((e: Json) => e.id === id);
      byId('car-eco-tuning').examples[0].expected.prediction += 1;
      byId('stock-forecast').examples[0].expected[0].time[0] = '2010-04-02T00:00:00.000Z';
      byId('stock-forecast').model.input = 'missing';
    });
    const err = await validateGeneration(files, ortRuntime).then(
      () => null,
      (e: unknown) => e as Json,
    );
    expect(err?.errorType).toBe('INVALID_GENERATION');
    expect(err?.detailedMessage).toContain('endpoint "car-eco-tuning" example 0: expected prediction');
    expect(err?.detailedMessage).toContain('endpoint "stock-forecast": the model cannot be loaded: Error: the model has no input "missing"');
  });
});
