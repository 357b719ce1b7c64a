import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bySymbol, stocks } from '../../examples/demo-build/forecast.js';
import { loadReference, loadReferenceAs, referenceEffect, referenceForecast, referenceScore, type CausalReference, type ForecastReference } from '../../examples/reference-scorer.js';
import { fnv1a32 } from '../../src/services/dispatch.js';
import { demoRecords } from '../support/demo-records.js';
import { codeConformance } from './code-suite.js';
import { auth, DEMO_KEY, sendRefused, type Target } from './target.js';

export { CONFORMANCE_ENV, DEMO_KEY, type Target } from './target.js';

const ENDPOINTS = ['penguin-species', 'flight-delayed', 'car-mpg'] as const;
const records = demoRecords(40);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The HTTP conformance suite: one suite, run against every runtime (Node here; Workers and
 * Lambda targets only say how to reach their built output). A target serves the demo service
 * seeded from examples/demo with the given key and CONFORMANCE_ENV applied.
 */
export function conformanceSuite(runtime: string, start: () => Promise<Target>): void {
  describe(`HTTP conformance on ${runtime}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => t?.close());

    const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
      t.fetch(`/public/api/v1/demo/${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const expectError = async (res: Response, status: number, errorType: string) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as Json;
      expect(body).toEqual({ errorType, message: expect.any(String), detailedMessage: expect.any(String) });
      expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
      return body;
    };

    it('answers /isAlive and /isAlive/', async () => {
      expect((await t.fetch('/isAlive')).status).toBe(200);
      expect((await t.fetch('/isAlive/')).status).toBe(200);
    });

    for (const gen of ['v1', 'v2']) {
      for (const endpoint of ENDPOINTS) {
        it(`scores ${endpoint} on ${gen} as the trained model computes it`, async () => {
          const ref = loadReference(gen, endpoint);
          const items = records[endpoint]!.map((features) => ({ features }));
          const res = await post(`${endpoint}/predict-multi`, { items, dispatch: { forcedGeneration: gen } });
          expect(res.status).toBe(200);
          expect(res.headers.get('x-apinode-generation')).toBe(gen);
          const body = (await res.json()) as Json;
          expect(body.apiContext).toEqual({ serviceId: 'demo', endpointId: endpoint, serviceGeneration: gen });
          expect(body.results).toHaveLength(items.length);
          body.results.forEach((r: Json, i: number) => {
            const want = referenceScore(ref, items[i]!.features);
            expect(r.ignored).toBe(false);
            if (typeof want.prediction === 'number') expect(Math.abs(r.prediction - want.prediction)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want.prediction)));
            else expect(r.prediction).toBe(want.prediction);
            for (const [cls, p] of Object.entries(want.probas ?? {})) expect(Math.abs(r.probas[cls] - p)).toBeLessThan(1e-4);
            if (want.probas) expect(r.probaPercentile).toBeGreaterThanOrEqual(1);
          });
        });
      }
    }

    it('assigns penguins to the clusters the trained k-means computes (STD_CLUSTERING)', async () => {
      const ref = loadReference('v2', 'penguin-clusters');
      const items = records['penguin-species']!.map((features) => ({ features }));
      const res = await post('penguin-clusters/predict-multi', { items, dispatch: { forcedGeneration: 'v2' } });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as Json;
      const clusters = new Set<string>();
      results.forEach((r: Json, i: number) => {
        const want = referenceScore(ref, items[i]!.features);
        if (r.ignored) return expect(want.cluster).toBeUndefined();
        expect(r.cluster).toBe(want.cluster);
        clusters.add(r.cluster);
      });
      expect(clusters.size).toBeGreaterThan(1);
    });

    it('answers predict with result, timing in microseconds, apiContext and the DSS headers', async () => {
      const features = records['flight-delayed']![3]!;
      const res = await post('flight-delayed/predict', { features, dispatch: { forcedGeneration: 'v1' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('dss-api-version')).toBeTruthy();
      expect(res.headers.get('dss-version')).toBeTruthy();
      const body = (await res.json()) as Json;
      const want = referenceScore(loadReference('v1', 'flight-delayed'), features);
      expect(body.result.prediction).toBe(want.prediction);
      expect(body.result.probaPercentile).toBeGreaterThanOrEqual(1);
      expect(body.result.probaPercentile).toBeLessThanOrEqual(100);
      for (const k of ['preProcessing', 'wait', 'enrich', 'preparation', 'prediction', 'postProcessing']) {
        expect(Number.isInteger(body.timing[k]) && body.timing[k] >= 0).toBe(true);
      }
    });

    it('reads JSON bodies without a Content-Type, as the DSS Python client sends them', async () => {
      const features = records['car-mpg']![0]!;
      const res = await t.fetch('/public/api/v1/demo/car-mpg/predict', {
        method: 'POST',
        headers: auth,
        body: new Blob([JSON.stringify({ features, dispatch: { forcedGeneration: 'v1' } })]),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('dss-version')).toBeTruthy();
      const res2 = await post('car-mpg/predict', JSON.stringify({ features }), { ...auth, 'Content-Type': 'text/plain' });
      expect(res2.status).toBe(200);
    });

    it('answers predict-simple from query parameters', async () => {
      const features = records['penguin-species']![5]!;
      const qs = new URLSearchParams(Object.entries(features).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]));
      const res = await t.fetch(`/public/api/v1/demo/penguin-species/predict-simple?${qs}`, { headers: auth });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Json;
      const want = referenceScore(loadReference(body.apiContext.serviceGeneration, 'penguin-species'), features);
      expect(body.result.prediction).toBe(want.prediction);
    });

    it('ignores an unusable record in predict-multi without failing the others', async () => {
      const good = records['car-mpg']![1]!;
      const res = await post('car-mpg/predict-multi', { items: [{ features: good }, { features: { ...good, weight_lbs: 'heavy' } }, { features: good }] });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as Json;
      expect(results[0].ignored).toBe(false);
      expect(results[1]).toEqual({ ignored: true, ignoreReason: expect.stringContaining('weight_lbs') });
      expect(results[2].prediction).toBe(results[0].prediction);
    });

    it('answers 400 INVALID_RECORD when predict gets an unusable record', async () => {
      await expectError(await post('car-mpg/predict', { features: { weight_lbs: 'heavy' } }), 400, 'INVALID_RECORD');
    });

    it('scores missing features as missing values, not errors', async () => {
      const res = await post('penguin-species/predict', { features: { island: 'Dream' } });
      expect(res.status).toBe(200);
    });

    it('answers 400 for malformed JSON and for a body that is not a prediction request', async () => {
      await expectError(await post('car-mpg/predict', '{"features": '), 400, 'INVALID_JSON');
      await expectError(await post('car-mpg/predict', ''), 400, 'INVALID_JSON');
      await expectError(await post('car-mpg/predict', { rows: [] }), 400, 'INVALID_REQUEST');
      await expectError(await post('car-mpg/predict-multi', { items: 'x' }), 400, 'INVALID_REQUEST');
    });

    it('answers 400 for a body nested deeper than 64 levels, however deep', async () => {
      for (const depth of [65, 5000]) {
        const body = await expectError(await post('car-mpg/predict', `{"features": {"a": ${'['.repeat(depth)}${']'.repeat(depth)}}}`), 400, 'INVALID_JSON');
        expect(body.message).toMatch(/64 levels/);
      }
    });

    it('refuses a number the model cannot hold: 400 on predict, ignored in predict-multi, never a null prediction', async () => {
      const features = { ...records['penguin-species']![0]!, beak_length_mm: 1e308 };
      for (const gen of ['v1', 'v2']) {
        await expectError(await post('penguin-species/predict', { features, dispatch: { forcedGeneration: gen } }), 400, 'INVALID_RECORD');
        const multi = (await (await post('penguin-species/predict-multi', { items: [{ features }], dispatch: { forcedGeneration: gen } })).json()) as Json;
        expect(multi.results).toEqual([{ ignored: true, ignoreReason: expect.stringMatching(/beak_length_mm/) }]);
      }
      await expectError(await post('car-eco-tuning/predict-effect', { features: { ...records['car-mpg']![0]!, weight_lbs: 1e308 } }), 400, 'INVALID_RECORD');
    });

    it('answers 413 for a body over the limit', async () => {
      const big = { items: Array.from({ length: 20_000 }, () => ({ features: records['car-mpg']![0]! })) };
      await expectError(await sendRefused(() => post('car-mpg/predict-multi', big)), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('answers 404 for an unknown service, endpoint, generation or route', async () => {
      await expectError(await t.fetch('/public/api/v1/nope/x/predict', { method: 'POST', body: '{}' }), 404, 'SERVICE_NOT_FOUND');
      await expectError(await post('nope/predict', { features: {} }), 404, 'ENDPOINT_NOT_FOUND');
      await expectError(await post('car-mpg/predict', { features: {}, dispatch: { forcedGeneration: 'v9' } }), 404, 'GENERATION_NOT_FOUND');
      await expectError(await t.fetch('/nothing-here'), 404, 'NOT_FOUND');
    });

    it('answers 401 without a key or with a wrong one, and accepts Bearer', async () => {
      const features = records['car-mpg']![0]!;
      const missing = await expectError(await post('car-mpg/predict', { features }, {}), 401, 'MISSING_CREDENTIALS');
      expect(missing.message).toMatch(/API key/);
      await expectError(await post('car-mpg/predict', { features }, { Authorization: `Basic ${btoa('wrong:')}` }), 401, 'INVALID_CREDENTIALS');
      expect((await post('car-mpg/predict', { features }, { Authorization: `Bearer ${DEMO_KEY}` })).status).toBe(200);
    });

    it('keeps a dispatch key on the generation its FNV-1a bucket names', async () => {
      const features = records['car-mpg']![2]!;
      for (const key of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
        const expected = fnv1a32(key) / 2 ** 32 < 0.7 ? 'v1' : 'v2';
        for (let i = 0; i < 3; i++) {
          const res = await post('car-mpg/predict', { features, dispatch: { dispatchKey: key } });
          expect(((await res.json()) as Json).apiContext.serviceGeneration).toBe(expected);
        }
      }
    });

    describe('explanations', () => {
      const flight = records['flight-delayed']![9]!;
      const explain = (method: string | null, extra: Json = {}) => ({ enabled: true, method, nExplanations: 3, nMonteCarloSteps: 100, ...extra });

      it('answers the n strongest Shapley contributions, strongest first, the same on every call', async () => {
        for (const gen of ['v1', 'v2']) {
          const body = { features: flight, explanations: explain('SHAPLEY'), dispatch: { forcedGeneration: gen } };
          const first = (await (await post('flight-delayed/predict', body)).json()) as Json;
          const again = (await (await post('flight-delayed/predict', body)).json()) as Json;
          const values = Object.values(first.result.explanations as Record<string, number>);
          expect(values).toHaveLength(3);
          expect(values.map(Math.abs)).toEqual([...values.map(Math.abs)].sort((a, b) => b - a));
          expect(Object.keys(first.result.explanations).every((f) => f in flight)).toBe(true);
          expect(again.result.explanations).toEqual(first.result.explanations);
          expect(first.result.prediction).toBe(referenceScore(loadReference(gen, 'flight-delayed'), flight).prediction);
        }
      });

      it('computes ICE on the log-odds of the positive class as the reference scorer does', async () => {
        const ref = loadReference('v1', 'flight-delayed');
        const bg = JSON.parse(readFileSync(new URL('../../examples/demo/generations/v1/data/flight-delayed.json', import.meta.url), 'utf8')) as Json;
        const logOdds = (f: Json) => {
          const p = referenceScore(ref, f).probas!;
          return Math.log(p.delayed!) - Math.log(p.on_time!);
        };
        const res = await post('flight-delayed/predict', { features: flight, explanations: explain('ICE', { nExplanations: 4 }), dispatch: { forcedGeneration: 'v1' } });
        const got = ((await res.json()) as Json).result.explanations as Record<string, number>;
        expect(Object.keys(got)).toHaveLength(4);
        for (const [feature, { values, weights }] of Object.entries(bg.features as Record<string, { values: unknown[]; weights: number[] }>)) {
          const total = weights.reduce((a, b) => a + b, 0);
          const mean = values.reduce<number>((s, v, k) => s + (weights[k]! / total) * logOdds({ ...flight, [feature]: v }), 0);
          expect(got[feature]).toBeCloseTo(logOdds(flight) - mean, 3);
        }
      });

      it("fills null fields from the endpoint's defaults in the manifest (SHAPLEY, 3 features, 100 steps)", async () => {
        const nulls = { enabled: true, method: null, nExplanations: null, nMonteCarloSteps: null };
        const res = await post('car-mpg/predict', { features: records['car-mpg']![4]!, explanations: nulls, dispatch: { forcedGeneration: 'v2' } });
        const explicit = await post('car-mpg/predict', { features: records['car-mpg']![4]!, explanations: explain('SHAPLEY'), dispatch: { forcedGeneration: 'v2' } });
        const got = ((await res.json()) as Json).result.explanations;
        expect(Object.keys(got)).toHaveLength(3);
        expect(got).toEqual(((await explicit.json()) as Json).result.explanations);
      });

      it('explains every usable record of predict-multi', async () => {
        const items = records['penguin-species']!.slice(0, 12).map((features) => ({ features }));
        items.push({ features: { ...items[0]!.features, body_mass_g: 'heavy' } });
        const res = await post('penguin-species/predict-multi', { items, explanations: explain('SHAPLEY', { nExplanations: 2 }) });
        expect(res.status).toBe(200);
        const { results } = (await res.json()) as Json;
        results.slice(0, 12).forEach((r: Json) => expect(Object.keys(r.explanations)).toHaveLength(2));
        expect(results[12]).toEqual({ ignored: true, ignoreReason: expect.stringContaining('body_mass_g') });
      });

      it('adds no explanations when they are not enabled', async () => {
        for (const explanations of [undefined, null, { enabled: false, method: 'ICE' }, { enabled: null }]) {
          const { result } = (await (await post('car-mpg/predict', { features: records['car-mpg']![0]!, explanations })).json()) as Json;
          expect(result.explanations).toBeUndefined();
        }
      });

      it('answers 400 for nMonteCarloSteps outside 25..1000 and 422 where explanations do not exist', async () => {
        for (const nMonteCarloSteps of [24, 1001]) {
          await expectError(await post('flight-delayed/predict', { features: flight, explanations: explain('SHAPLEY', { nMonteCarloSteps }) }), 400, 'INVALID_REQUEST');
        }
        const penguin = records['penguin-species']![0]!;
        const clusters = { features: penguin, explanations: explain('ICE'), dispatch: { forcedGeneration: 'v2' } };
        await expectError(await post('penguin-clusters/predict', clusters), 422, 'EXPLANATIONS_UNAVAILABLE');
      });
    });

    describe('forecasting and causal endpoints', () => {
      const stock = bySymbol(stocks());
      const forecastRef = loadReferenceAs<ForecastReference>('v1', 'stock-forecast');

      it('forecasts each series of a request per horizon step (STD_FORECAST), ignoring one with too little history', async () => {
        const items = [...stock.get('MSFT')!.slice(-12), ...stock.get('GOOG')!.slice(-4), ...stock.get('AAPL')!.slice(-15).reverse()];
        const res = await post('stock-forecast/forecast', { items, dispatch: { forcedGeneration: 'v1' } });
        expect(res.status).toBe(200);
        const { results } = (await res.json()) as Json;
        // Step by step, within a step the series in the order they first appear; one result for the ignored one, among the first step's.
        const [m1, m2, m3] = ['2010-04-01T00:00:00.000000Z', '2010-05-01T00:00:00.000000Z', '2010-06-01T00:00:00.000000Z'];
        expect(results.map((r: Json) => [r.timeseriesIdentifier.symbol, r.time, r.ignored])).toEqual([
          ['MSFT', m1, false], ['GOOG', undefined, true], ['AAPL', m1, false], ['MSFT', m2, false], ['AAPL', m2, false], ['MSFT', m3, false], ['AAPL', m3, false],
        ]);
        expect(results[1].ignoreReason).toBe('needs 12 periods of history, has 4');
        for (const symbol of ['MSFT', 'AAPL']) {
          const want = referenceForecast(forecastRef, stock.get(symbol)!.slice(-12).map((r) => r.price));
          results.filter((r: Json) => r.timeseriesIdentifier.symbol === symbol).forEach((r: Json, h: number) => {
            expect(Math.abs(r.forecast - want.forecast[h]!)).toBeLessThan(1e-4 * r.forecast);
            expect(r.quantiles).toEqual([0.1, 0.5, 0.9]);
            r.quantilesValues.forEach((v: number, q: number) => expect(Math.abs(v - want.quantilesValues[q]![h]!)).toBeLessThan(1e-4 * v));
          });
        }
      });

      it('answers the treatment effect and both outcomes (STD_CAUSAL_PREDICTION)', async () => {
        const causalRef = loadReferenceAs<CausalReference>('v2', 'car-eco-tuning');
        const items = records['car-mpg']!.slice(0, 10).map((features) => ({ features }));
        const res = await post('car-eco-tuning/predict-effect-multi', { items, dispatch: { forcedGeneration: 'v2' } });
        expect(res.status).toBe(200);
        const { results } = (await res.json()) as Json;
        results.forEach((r: Json, i: number) => {
          const want = referenceEffect(causalRef, items[i]!.features);
          expect(r.prediction).toBeCloseTo(want.prediction, 3);
          expect(r.outcomeTreated - r.outcomeControl).toBeCloseTo(r.prediction, 3);
        });
        const one = (await (await post('car-eco-tuning/predict-effect', { features: items[0]!.features })).json()) as Json;
        expect(one.result.prediction).toBeCloseTo(results[0].prediction, 3);
        await expectError(await post('car-eco-tuning/predict', { features: items[0]!.features }), 400, 'WRONG_ENDPOINT_TYPE');
      });
    });

    codeConformance(() => t, post, expectError);

    it('splits traffic without a dispatch key between the mapped generations', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 60; i++) seen.add((await post('car-mpg/predict', { features: records['car-mpg']![0]! })).headers.get('x-apinode-generation')!);
      expect(seen).toEqual(new Set(['v1', 'v2']));
    });
  });
}
