/**
 * Re-checks the committed demo generations without rebuilding: every manifest parses, every
 * example's expected answer matches the reference scorer, and every ONNX model, run with
 * onnxruntime-web on the examples and 200 real records, matches the reference scorer.
 *
 *   npx tsx examples/check-demo.ts
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manifest, isPredictionEndpoint } from '../packages/protocol/src/index.js';
import { loadReference, referenceScore } from './reference-scorer.js';
import { checkEndpoint } from './demo-build/check.js';
import { loadEndpoints } from './demo-build/endpoints.js';
import { mulberry32, sampleIndices } from './demo-build/rng.js';

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const datasets = new Map(loadEndpoints().map((e) => [e.id, e.data.records]));
  datasets.set('penguin-clusters', datasets.get('penguin-species')!);
  for (const gen of ['v1', 'v2']) {
    const dir = join(here, 'demo', 'generations', gen);
    const manifest = Manifest.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    // Enriched endpoints need a database; their model is checked under its own endpoint.
    for (const e of manifest.endpoints.filter(isPredictionEndpoint).filter((e) => e.enrich.length === 0)) {
      const ref = loadReference(gen, e.id);
      for (const x of e.examples) {
        const got = referenceScore(ref, x.features);
        const exp = x.expected;
        const ok =
          (exp.cluster === undefined || exp.cluster === got.cluster) &&
          (exp.prediction === undefined ||
            (typeof exp.prediction === 'number' ? Math.abs(exp.prediction - Number(got.prediction)) <= x.tolerance : exp.prediction === got.prediction)) &&
          Object.entries(exp.probas ?? {}).every(([c, p]) => Math.abs(p - (got.probas?.[c] ?? NaN)) <= x.tolerance);
        if (!ok) throw new Error(`${gen}/${e.id}: example ${JSON.stringify(x)} but reference gives ${JSON.stringify(got)}`);
      }
      const records = datasets.get(e.id)!;
      const sample = sampleIndices(records.length, 200, mulberry32(7)).map((i) => records[i]!);
      const all = [...sample, ...e.examples.map((x) => x.features)].map((r) =>
        Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)),
      );
      const onnx = new Uint8Array(readFileSync(join(dir, e.model.file)));
      const worst = await checkEndpoint(e, ref, onnx, all);
      console.log(`${gen}/${e.id}: manifest examples OK, ORT matches reference on ${all.length} records (max deviation ${worst.toExponential(2)})`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
