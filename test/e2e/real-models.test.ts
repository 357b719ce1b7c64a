import { beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS, seedRealModels } from '../support/real-models.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  const { store } = await tempStore();
  await seedRealModels(store);
  app = testApp(store).app;
});

const multi = async (endpoint: string, records: unknown[]) => {
  const res = await app.request(`/public/api/v1/fixtures/${endpoint}/predict-multi`, { method: 'POST', body: JSON.stringify({ items: records.map((features) => ({ features })) }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { results: { prediction: unknown; probas?: Record<string, number>; ignored: boolean }[] };
};

describe('real converter-exported models', () => {
  for (const c of REAL_MODELS) {
    it(`${c.file} answers the outputs recorded upstream`, async () => {
      const { results } = await multi(c.endpoint.id, c.records);
      expect(results.map((r) => r.prediction)).toEqual(
        c.predictions.map((p) => (typeof p === 'number' ? expect.closeTo(p, -Math.log10(c.tolerance ?? 1e-4)) : p)),
      );
      const classes = (c.endpoint.classes as string[] | undefined) ?? [];
      for (const [i, r] of results.entries()) {
        expect(r.ignored).toBe(false);
        if (!classes.length) continue;
        const p = classes.map((k) => r.probas?.[k] as number);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        if (c.probas) p.forEach((v, k) => expect(Math.abs(v - (c.probas?.[i]?.[k] as number))).toBeLessThanOrEqual(c.tolerance ?? 1e-4));
      }
    });
  }

  it('scores a fixed-batch legacy model row by row inside one batch request', async () => {
    const { results } = await multi('legacy-rf', [{ a: 1, b: 1 }, { a: 1, b: 1 }, { a: 1, b: 1 }]);
    expect(results.map((r) => r.prediction)).toEqual(['A', 'A', 'A']);
  });

  it('gives the same answer in a batch as alone', async () => {
    const c = REAL_MODELS.find((m) => m.endpoint.id === 'wine-xgb')!;
    const alone = await app.request('/public/api/v1/fixtures/wine-xgb/predict', { method: 'POST', body: JSON.stringify({ features: c.records[1] }) });
    const { results } = await multi('wine-xgb', c.records);
    expect(((await alone.json()) as { result: unknown }).result).toEqual(results[1]);
  });

  it('imputes missing values and accepts unknown categories the way the pipeline declares', async () => {
    const { results } = await multi('titanic', [{ pclass: 2, sex: 'male', fare: 13, embarked: 'Z' }]);
    expect(results[0]?.ignored).toBe(false);
  });
});
