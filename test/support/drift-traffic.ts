import { readFileSync } from 'node:fs';
import { ExplanationBackground, type QueryLogLine } from '@apinode/protocol';
import { penguins } from '../../examples/demo-build/datasets.js';
import { mulberry32 } from '../../src/inference/explain/random.js';
import type { DriftReference } from '../../src/drift/report.js';

/** The demo's penguins: the whole training set generation v1 was built from. */
export const training = penguins().records;

/** Standard deviation of body_mass_g over the training set. */
export const massSd = (() => {
  const xs = training.map((r) => r.body_mass_g).filter((x): x is number => typeof x === 'number');
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
})();

/** Records drawn from the training set with a seeded PRNG, body_mass_g moved by `shift`. */
export function penguinRecords(n: number, seed: number, shift: number): Record<string, string | number | null>[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const r = { ...training[Math.floor(rnd() * training.length)]! };
    if (typeof r.body_mass_g === 'number') r.body_mass_g += shift;
    return r;
  });
}

/** The same records as query-log lines of penguin-species, generation v1. */
export async function* penguinTraffic(n: number, seed: number, shift: number): AsyncGenerator<QueryLogLine> {
  let i = 0;
  for (const features of penguinRecords(n, seed, shift)) {
    yield { v: 1, time: '2026-12-01T10:00:00.000Z', requestId: `r${i}`, serviceId: 's', endpointId: 'penguin-species', generation: 'v1', action: 'predict', record: 0, caller: null, features, context: null, result: { prediction: 'Adelie' }, timing: {}, status: 'ok' };
    i++;
  }
}

/** The reference of penguin-species in the demo's generation v1, as loadDriftReference reads it. */
export const penguinReference: DriftReference = {
  generation: 'v1',
  features: (['island', 'beak_length_mm', 'beak_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex'] as const).map((name) => ({ name, kind: name === 'island' || name === 'sex' ? 'CATEGORY' : 'NUMERIC' })),
  background: ExplanationBackground.parse(JSON.parse(readFileSync(new URL('../../examples/demo/generations/v1/data/penguin-species.json', import.meta.url), 'utf8'))),
  predictionKind: 'CATEGORY',
  classes: ['Adelie', 'Chinstrap', 'Gentoo'],
};
