import type { FeatureRecord } from '../encoding.js';

/** One record's explanation work: the rows to score, and how their scores become contributions. */
export interface Perturbation {
  /** Records to score; row 0 is the explained record itself. */
  readonly rows: FeatureRecord[];
  /** Contribution per explained feature, from the scores g of `rows` (on the explained scale). */
  contributions(g: Float64Array): Float64Array;
}

/** `x` restricted to the explained features: the base every perturbed row is copied from. */
export function restrict(x: FeatureRecord, features: readonly string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const f of features) r[f] = x[f];
  return r;
}
