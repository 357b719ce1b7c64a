import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExplanationBackground, Manifest, type PredictionEndpointSpec, isPredictionEndpoint } from '@apinode/protocol';
import { loadReference, referenceScore } from '../../examples/reference-scorer.js';
import type { FeatureRecord } from '../../src/inference/encoding.js';
import { resolveExplanations, type ExplainRequest } from '../../src/inference/explain/explainer.js';
import type { ModelRuntime } from '../../src/inference/model-runtime.js';
import { ortModelRuntime } from '../../src/inference/ort-runtime.js';
import { PredictionModel } from '../../src/inference/prediction-model.js';
import { demoRecords } from '../support/demo-records.js';

ort.env.wasm.numThreads = 1;

/**
 * Explanations are checked against an independent reference: the demo's plain-JS scorer
 * (examples/reference-scorer.ts, no onnxruntime, nothing from src/) computes the explained
 * scale, exact Shapley values come from enumerating every coalition, and ICE from its formula.
 */
const DEMO = new URL('../../examples/demo/generations/', import.meta.url);
const records = demoRecords(40);

/** Counts model runs and can pretend the model has a fixed batch dimension. */
function countingRuntime(fixedBatch?: number): ModelRuntime & { runs: number[] } {
  const inner = ortModelRuntime(ort);
  const runs: number[] = [];
  return {
    runs,
    async load(bytes) {
      const s = await inner.load(bytes);
      const inputs = fixedBatch ? s.inputs.map((i) => ({ ...i, dims: [fixedBatch, ...(i.dims ?? []).slice(1)] })) : s.inputs;
      return {
        inputs,
        outputs: s.outputs,
        run: (feeds, fetches) => {
          runs.push(Object.values(feeds)[0]!.dims[0]!);
          return s.run(feeds, fetches);
        },
        release: () => s.release(),
      };
    },
  };
}

interface Demo {
  spec: PredictionEndpointSpec;
  background: ExplanationBackground;
  model: PredictionModel;
  runtime: ReturnType<typeof countingRuntime>;
  /** The explained scale computed by the reference scorer (for multiclass: the class predicted for `x`). */
  g: (features: FeatureRecord, x: FeatureRecord) => number;
}

/** The documented scale: log(p / (1 - p)), 1 - p summed over the other classes, both floored at 1e-7. */
const logOdds = (probas: Record<string, number>, cls: string) => {
  const rest = Object.entries(probas).reduce((s, [k, p]) => (k === cls ? s : s + p), 0);
  return Math.log(Math.max(1e-7, probas[cls]!)) - Math.log(Math.max(1e-7, rest));
};

async function demo(gen: string, id: string, fixedBatch?: number): Promise<Demo> {
  const manifest = Manifest.parse(JSON.parse(readFileSync(new URL(`${gen}/manifest.json`, DEMO), 'utf8')));
  const spec = manifest.endpoints.filter(isPredictionEndpoint).find((e) => e.id === id)!;
  const background = ExplanationBackground.parse(JSON.parse(readFileSync(new URL(`${gen}/${spec.explanations!.background}`, DEMO), 'utf8')));
  const runtime = countingRuntime(fixedBatch);
  const model = await PredictionModel.load(spec, new Uint8Array(readFileSync(new URL(`${gen}/${spec.model.file}`, DEMO))), runtime, background);
  const ref = loadReference(gen, id);
  const g = (features: FeatureRecord, x: FeatureRecord) => {
    const s = referenceScore(ref, features);
    if (spec.predictionType === 'REGRESSION') return s.prediction as number;
    if (spec.predictionType === 'BINARY_CLASSIFICATION') return logOdds(s.probas!, spec.classes![1]!);
    return logOdds(s.probas!, referenceScore(ref, x).prediction as string);
  };
  return { spec, background, model, runtime, g };
}

const features = (spec: PredictionEndpointSpec) => spec.features.map((f) => f.name);

/** Exact Shapley values of v(S) = mean over background rows z of g(x on S, z elsewhere), by enumerating all 2^d coalitions. */
function exactShapley(d: Demo, x: FeatureRecord): Record<string, number> {
  const names = features(d.spec);
  const n = names.length;
  const v = Array.from({ length: 1 << n }, (_, mask) => {
    let sum = 0;
    for (const z of d.background.rows) sum += d.g(Object.fromEntries(names.map((f, j) => [f, mask & (1 << j) ? x[f] : z[f]])), x);
    return sum / d.background.rows.length;
  });
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const bits = (m: number) => m.toString(2).replace(/0/g, '').length;
  return Object.fromEntries(
    names.map((f, j) => {
      let phi = 0;
      for (let mask = 0; mask < 1 << n; mask++) {
        if (mask & (1 << j)) continue;
        const s = bits(mask);
        phi += ((fact(s) * fact(n - s - 1)) / fact(n)) * (v[mask | (1 << j)]! - v[mask]!);
      }
      return [f, phi];
    }),
  );
}

/** ICE by its formula: g(x) minus the weighted mean of g with the feature replaced by each background value. */
function directIce(d: Demo, x: FeatureRecord): Record<string, number> {
  return Object.fromEntries(
    features(d.spec).map((f) => {
      const { values, weights = values.map(() => 1) } = d.background.features[f]!;
      const total = weights.reduce((a, b) => a + b, 0);
      const mean = values.reduce<number>((s, v, k) => s + (weights[k]! / total) * d.g({ ...x, [f]: v }, x), 0);
      return [f, d.g(x, x) - mean];
    }),
  );
}

const explainAll = async (d: Demo, xs: FeatureRecord[], req: Omit<ExplainRequest, 'nExplanations'>) =>
  (await d.model.score(xs, { nExplanations: 100, ...req })).results.map((r) => r.explanations!);

const meanAbsError = (got: Record<string, number>[], want: Record<string, number>[]) => {
  let sum = 0;
  let n = 0;
  got.forEach((e, i) => Object.entries(want[i]!).forEach(([f, v]) => ((sum += Math.abs((e[f] ?? 0) - v)), n++)));
  return sum / n;
};

describe('Shapley explanations', () => {
  for (const [gen, id] of [
    ['v2', 'flight-delayed'],
    ['v2', 'car-mpg'],
    ['v2', 'penguin-species'],
  ] as const) {
    describe(`on ${gen}/${id}`, () => {
      let d: Demo;
      let xs: FeatureRecord[];
      let exact: Record<string, number>[];
      beforeAll(async () => {
        d = await demo(gen, id);
        xs = [0, 11, 23].map((i) => records[id]![i]!);
        exact = xs.map((x) => exactShapley(d, x));
      });

      it('converges to the exact values from full coalition enumeration as steps grow', async () => {
        const errors: number[] = [];
        for (const steps of [25, 100, 1000]) errors.push(meanAbsError(await explainAll(d, xs, { method: 'SHAPLEY', nMonteCarloSteps: steps }), exact));
        const scale = meanAbsError(exact.map(() => ({})), exact); // mean |exact value|
        expect(errors[1]!).toBeLessThan(errors[0]!);
        expect(errors[2]!).toBeLessThan(errors[1]!);
        expect(errors[2]!).toBeLessThan(0.1 * scale);
      });

      it('is efficient: contributions sum to g(x) minus the background mean of g, within Monte Carlo error', async () => {
        for (const steps of [100, 25]) {
          const got = await explainAll(d, xs, { method: 'SHAPLEY', nMonteCarloSteps: steps });
          xs.forEach((x, i) => {
            const gz = d.background.rows.map((z) => d.g(z, x));
            const mean = gz.reduce((a, b) => a + b, 0) / gz.length;
            const want = d.g(x, x) - mean;
            expect(Object.values(exact[i]!).reduce((a, b) => a + b, 0)).toBeCloseTo(want, 6); // the reference's own efficiency
            // The sum telescopes to g(x) minus the mean of the background rows drawn: 100 steps
            // draw each of the 100 rows once (exact but for float32 rounding); 25 draw a quarter
            // of them, so the error is that of a sample mean without replacement.
            const sd = Math.sqrt(gz.reduce((a, v) => a + (v - mean) ** 2, 0) / (gz.length - 1));
            const mcError = steps >= gz.length ? 0 : (sd / Math.sqrt(steps)) * Math.sqrt(1 - steps / gz.length);
            const sum = Object.values(got[i]!).reduce((a, b) => a + b, 0);
            expect(Math.abs(sum - want)).toBeLessThan(4 * mcError + 1e-4 * Math.max(1, Math.abs(want)));
          });
        }
      });
    });
  }
});

describe('ICE explanations', () => {
  for (const [gen, id] of [
    ['v1', 'flight-delayed'],
    ['v2', 'flight-delayed'],
    ['v1', 'penguin-species'],
    ['v2', 'car-mpg'],
  ] as const) {
    it(`match the direct computation on ${gen}/${id}`, async () => {
      const d = await demo(gen, id);
      const xs = records[id]!.slice(0, 8);
      const got = await explainAll(d, xs, { method: 'ICE', nMonteCarloSteps: 100 });
      xs.forEach((x, i) => {
        for (const [f, v] of Object.entries(directIce(d, x))) expect(Math.abs(got[i]![f]! - v)).toBeLessThan(1e-3 * Math.max(1, Math.abs(v)));
      });
    });
  }
});

describe('explaining a batch', () => {
  const shapley: ExplainRequest = { method: 'SHAPLEY', nExplanations: 3, nMonteCarloSteps: 100 };

  it('scores all perturbations of a whole batch in one model run, after the run for the records', async () => {
    const d = await demo('v2', 'flight-delayed');
    const xs = records['flight-delayed']!.slice(0, 10);
    await d.model.score(xs, shapley);
    expect(d.runtime.runs).toEqual([10, 10 * (1 + 100 * 4)]);
  });

  it('returns the n strongest contributions by absolute value, strongest first', async () => {
    const d = await demo('v2', 'car-mpg');
    const [all] = await explainAll(d, [records['car-mpg']![5]!], { method: 'SHAPLEY', nMonteCarloSteps: 100 });
    const [top] = (await d.model.score([records['car-mpg']![5]!], shapley)).results;
    const strongest = Object.entries(all!).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
    expect(Object.entries(top!.explanations!)).toEqual(strongest.slice(0, 3));
  });

  it('gives a record the same answer alone and within a batch, on every call (seeded by the record)', async () => {
    const d = await demo('v1', 'penguin-species');
    const xs = records['penguin-species']!.slice(0, 6);
    const batch = (await d.model.score(xs, shapley)).results.map((r) => r.explanations);
    const again = (await d.model.score(xs, shapley)).results.map((r) => r.explanations);
    const alone = (await d.model.score([xs[4]!], shapley)).results[0]!.explanations;
    expect(again).toEqual(batch);
    expect(alone).toEqual(batch[4]);
  });

  it('works on a model with a fixed batch dimension, with the same answers', async () => {
    const dynamic = await demo('v2', 'flight-delayed');
    const fixed = await demo('v2', 'flight-delayed', 64);
    const xs = records['flight-delayed']!.slice(0, 3);
    const want = (await dynamic.model.score(xs, shapley)).results;
    const got = (await fixed.model.score(xs, shapley)).results;
    expect(fixed.runtime.runs.every((n) => n === 64)).toBe(true);
    got.forEach((r, i) => Object.entries(want[i]!.explanations!).forEach(([f, v]) => expect(r.explanations![f]).toBeCloseTo(v, 5)));
  });

  it('leaves unusable records unexplained and explains the others', async () => {
    const d = await demo('v1', 'car-mpg');
    const good = records['car-mpg']![1]!;
    const { results } = await d.model.score([good, { ...good, weight_lbs: 'heavy' }], { ...shapley, method: 'ICE' });
    expect(Object.keys(results[0]!.explanations!)).toHaveLength(3);
    expect(results[1]).toEqual({ ignored: true, ignoreReason: expect.stringContaining('weight_lbs') });
  });
});

describe('explanation settings', () => {
  const manifest = () => JSON.parse(readFileSync(new URL('v2/manifest.json', DEMO), 'utf8'));

  it("fills a request's null fields from the endpoint's defaults, and explains only when enabled", () => {
    const spec = Manifest.parse(manifest()).endpoints.filter(isPredictionEndpoint).find((e) => e.id === 'car-mpg')!;
    expect(resolveExplanations({ enabled: true, method: null, nExplanations: 2 }, spec)).toEqual({ method: 'SHAPLEY', nExplanations: 2, nMonteCarloSteps: 100 });
    expect(resolveExplanations(undefined, spec)).toBeNull();
    expect(resolveExplanations({ enabled: null, method: 'ICE' }, spec)).toBeNull();
    const enabledByDefault = { ...spec, explanations: { ...spec.explanations!, enabled: true } };
    expect(resolveExplanations(null, enabledByDefault)).toEqual({ method: 'SHAPLEY', nExplanations: 3, nMonteCarloSteps: 100 });
    expect(resolveExplanations({ enabled: false }, enabledByDefault)).toBeNull();
    expect(resolveExplanations({ enabled: true }, { ...spec, explanations: undefined })).toMatch(/no explanation background/);
  });

  it('refuses a manifest that gives explanations to a clustering endpoint', () => {
    const m = manifest();
    const clusters = m.endpoints.find((e: { id: string }) => e.id === 'penguin-clusters');
    clusters.explanations = { background: 'data/penguin-species.json' };
    const parsed = Manifest.safeParse(m);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/explanations need a regression output or class probabilities/);
  });
});
