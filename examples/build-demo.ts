/**
 * Builds the demo service "demo": trains the models from vega-datasets in plain TypeScript,
 * exports them to ONNX and writes generations v1 (linear, MATRIX) and v2 (boosted trees,
 * COLUMNS, plus k-means clustering) with their reference parameters, then self-checks every
 * model with onnxruntime-web. Deterministic: running it twice gives identical files.
 *
 *   npm run build:demo        (= npx tsx examples/build-demo.ts)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manifest } from '../packages/protocol/src/index.js';
import { referenceScore, type Reference } from './reference-scorer.js';
import { buildBackground, formatBackground } from './demo-build/background.js';
import { checkEndpoint } from './demo-build/check.js';
import { codeEndpointSpecs } from './demo-build/code-endpoints.js';
import { dataEndpointSpecs } from './demo-build/data-endpoints.js';
import { addForecastAndCausalEndpoints } from './demo-build/forecast-demo.js';
import { loadEndpoints, type EndpointData } from './demo-build/endpoints.js';
import { accuracy, auc, bestF1Threshold, percentiles, r2, rmse } from './demo-build/metrics.js';
import { trainPenguinClusters, trainV1, trainV2, type Trained } from './demo-build/models.js';
import { mulberry32, sampleIndices } from './demo-build/rng.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), 'demo');
const GENERATIONS = [
  { generation: 'v1', createdAt: '2026-11-01T00:00:00Z', description: 'Linear models, features encoded by the node (MATRIX inputs)', train: trainV1 },
  { generation: 'v2', createdAt: '2026-11-15T00:00:00Z', description: 'Gradient-boosted trees with in-graph preprocessing (COLUMNS inputs), plus k-means clusters', train: trainV2 },
];

type Rec = Record<string, string | number | null>;
const present = (r: Rec): Record<string, string | number> =>
  Object.fromEntries(Object.entries(r).filter((kv): kv is [string, string | number] => kv[1] !== null));
const round = (x: number, d = 4): number => Number(x.toFixed(d));

/**
 * Three real records: two complete ones (of different classes when classifying) and one without
 * `missingFeature` (a real gap in the data when there is one, preferably of a third class).
 */
function exampleRecords(e: EndpointData, seed: number): Rec[] {
  const recs = e.data.records;
  const rng = mulberry32(seed);
  const pick = (pool: number[]): number => pool[Math.floor(rng() * pool.length)]!;
  const nulls = (r: Rec): number => Object.values(r).filter((v) => v === null).length;
  const all = recs.map((_, i) => i);
  const complete = all.filter((i) => nulls(recs[i]!) === 0);
  const k = e.classes?.length ?? 0;
  const first = pick(k ? complete.filter((i) => e.y[i] === 0) : complete);
  const second = pick(k ? complete.filter((i) => e.y[i] === k - 1 - (k > 2 ? 1 : 0)) : complete.filter((i) => i !== first));
  const gaps = all.filter((i) => recs[i]![e.missingFeature] === null && nulls(recs[i]!) === 1);
  const otherClass = gaps.filter((i) => e.y[i] !== e.y[first] && e.y[i] !== e.y[second]);
  if (gaps.length) return [recs[first]!, recs[second]!, recs[pick(otherClass.length ? otherClass : gaps)]!];
  const third = pick(complete.filter((i) => i !== first && i !== second));
  return [recs[first]!, recs[second]!, { ...recs[third]!, [e.missingFeature]: null }];
}

function describe(e: EndpointData, t: Trained, ref: Reference, gen: string): { spec: Record<string, unknown>; metrics: string } {
  const scored = e.data.records.map((r) => referenceScore(ref, r));
  const spec: Record<string, unknown> = {
    id: e.id,
    type: 'STD_PREDICTION',
    predictionType: e.predictionType,
    description: e.description,
    features: e.features.map((f) => ({ name: f.name, type: f.type })),
    model: { file: t.file, inputs: t.inputs, outputs: t.outputs },
  };
  let metrics: string;
  if (e.predictionType === 'REGRESSION') {
    const pred = scored.map((s) => Number(s.prediction));
    metrics = `RMSE ${rmse(pred, e.y).toFixed(3)} mpg, R² ${r2(pred, e.y).toFixed(3)} (n=${e.y.length})`;
  } else {
    const classes = e.classes!;
    const probas = scored.map((s) => classes.map((c) => s.probas![c]!));
    spec['classes'] = classes;
    if (classes.length === 2) {
      const p1 = probas.map((p) => p[1]!);
      const best = bestF1Threshold(p1, e.y);
      ref.threshold = best.threshold;
      spec['threshold'] = best.threshold;
      spec['probaPercentiles'] = percentiles(p1);
      const majority = Math.max(...[0, 1].map((k) => e.y.filter((v) => v === k).length)) / e.y.length;
      const acc05 = accuracy(p1.map((p) => (p >= 0.5 ? 1 : 0)), e.y);
      const accT = accuracy(p1.map((p) => (p >= best.threshold ? 1 : 0)), e.y);
      metrics = `AUC ${auc(p1, e.y).toFixed(3)}, accuracy ${acc05.toFixed(3)} at 0.5 (majority class ${majority.toFixed(3)}), threshold ${best.threshold} (max F1 ${best.f1.toFixed(3)}, accuracy ${accT.toFixed(3)}) (n=${e.y.length})`;
    } else {
      const predicted = probas.map((p) => p.indexOf(Math.max(...p)));
      spec['probaPercentiles'] = percentiles(probas.map((p) => Math.max(...p)));
      metrics = `accuracy ${accuracy(predicted, e.y).toFixed(4)} (n=${e.y.length})`;
    }
  }
  spec['examples'] = exampleRecords(e, 7 + e.id.length).map((r) => example(ref, present(r)));
  spec['explanations'] = { background: backgroundFile(e.id), enabled: false, method: 'SHAPLEY', nExplanations: 3, nMonteCarloSteps: 100 };
  return { spec, metrics: `${gen}/${e.id}: ${metrics}` };
}

const backgroundFile = (id: string): string => `data/${id}.json`;

function example(ref: Reference, features: Record<string, string | number>): Record<string, unknown> {
  const s = referenceScore(ref, features);
  const expected: Record<string, unknown> = { prediction: typeof s.prediction === 'number' ? round(s.prediction, 6) : s.prediction };
  if (s.probas) expected['probas'] = Object.fromEntries(Object.entries(s.probas).map(([k, v]) => [k, round(v, 6)]));
  if (s.cluster) delete expected['prediction'];
  if (s.cluster) expected['cluster'] = s.cluster;
  return { features, expected, tolerance: 1e-4 };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const endpoints = loadEndpoints();
  const checks: { spec: Record<string, unknown>; ref: Reference; onnx: Uint8Array; records: Rec[] }[] = [];
  for (const g of GENERATIONS) {
    const specs: Record<string, unknown>[] = [];
    const files: { file: string; onnx: Uint8Array; ref: Reference }[] = [];
    const backgrounds: { file: string; text: string }[] = [];
    const trained = endpoints.map((e) => ({ e, t: g.train(e) }));
    for (const { e, t } of trained) {
      const { spec, metrics } = describe(e, t, t.ref, g.generation);
      console.log(`${metrics}; ${t.file} ${t.onnx.length} bytes`);
      specs.push(spec);
      backgrounds.push({ file: backgroundFile(e.id), text: formatBackground(buildBackground(e.data.records, e.features, 2026 + e.id.length)) });
      files.push({ file: t.file, onnx: t.onnx, ref: t.ref });
      checks.push({ spec, ref: t.ref, onnx: t.onnx, records: e.data.records });
    }
    if (g.generation === 'v2') {
      const penguins = endpoints.find((e) => e.id === 'penguin-species')!;
      const t = trainPenguinClusters(penguins);
      const features = penguins.features.filter((f) => f.type === 'NUMERIC');
      const spec: Record<string, unknown> = {
        id: 'penguin-clusters',
        type: 'STD_CLUSTERING',
        predictionType: 'CLUSTERING',
        description: 'k-means (k=3) on the four standardized penguin body measurements',
        features: features.map((f) => ({ name: f.name, type: f.type })),
        model: { file: t.file, inputs: t.inputs, outputs: t.outputs },
        clusters: t.ref.clusters,
        examples: exampleRecords({ ...penguins, missingFeature: 'body_mass_g' }, 11).map((r) =>
          example(t.ref, present(Object.fromEntries(features.map((f) => [f.name, r[f.name] ?? null])))),
        ),
      };
      specs.push(spec);
      files.push({ file: t.file, onnx: t.onnx, ref: t.ref });
      checks.push({ spec, ref: t.ref, onnx: t.onnx, records: penguins.data.records });
      console.log(`v2/penguin-clusters: centroids ${JSON.stringify(t.ref.model.kind === 'kmeans' ? t.ref.model.centroids : [])}`);
    }
    specs.push(...dataEndpointSpecs(specs.find((s) => s.id === 'car-mpg')!));
    await addForecastAndCausalEndpoints(g.generation, endpoints, specs, files);
    const manifest = { formatVersion: 1, generation: g.generation, createdAt: g.createdAt, description: g.description, endpoints: specs };
    Manifest.parse(manifest);
    const genDir = join(OUT, 'generations', g.generation);
    rmSync(genDir, { recursive: true, force: true });
    rmSync(join(OUT, 'reference', g.generation), { recursive: true, force: true });
    for (const f of files) {
      mkdirSync(join(genDir, 'models'), { recursive: true });
      writeFileSync(join(genDir, f.file), f.onnx);
      writeJson(join(OUT, 'reference', g.generation, `${f.ref.endpoint}.json`), f.ref);
    }
    for (const b of backgrounds) {
      mkdirSync(join(genDir, 'data'), { recursive: true });
      writeFileSync(join(genDir, b.file), b.text);
    }
    specs.push(...codeEndpointSpecs(genDir, specs.find((s) => s.id === 'penguin-species')!['classes'] as string[]));
    writeJson(join(genDir, 'manifest.json'), manifest);
  }

  // Self-check with onnxruntime-web: 200 sampled records + the manifest examples + every record with a gap.
  for (const c of checks) {
    const rng = mulberry32(42);
    const sample = sampleIndices(c.records.length, 200, rng).map((i) => c.records[i]!);
    const gaps = c.records.filter((r) => Object.values(r).some((v) => v === null));
    const examples = (c.spec['examples'] as { features: Rec }[]).map((x) => x.features);
    const all = [...sample, ...gaps, ...examples].map(present);
    const worst = await checkEndpoint(c.spec as never, c.ref, c.onnx, all);
    console.log(`self-check ${c.ref.generation}/${c.ref.endpoint}: ${all.length} records OK, max deviation ${worst.toExponential(2)}`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
