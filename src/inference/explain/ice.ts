import type { FeatureRecord } from '../encoding.js';
import type { Background } from './background.js';
import { restrict, type Perturbation } from './perturbation.js';

/**
 * ICE (as DSS computes it): the contribution of feature j is the prediction minus the
 * weighted mean prediction with j replaced by each of its background values (deciles of a
 * numeric feature, the most frequent categories of a categorical one).
 * Rows: 1 + sum over features of their value counts.
 */
export function icePerturbation(x: FeatureRecord, features: readonly string[], bg: Background): Perturbation {
  const base = restrict(x, features);
  const rows: FeatureRecord[] = [base];
  features.forEach((f, j) => {
    for (const v of bg.ice[j]!.values) rows.push({ ...base, [f]: v });
  });
  return {
    rows,
    contributions(g) {
      const out = new Float64Array(features.length);
      let at = 1;
      bg.ice.forEach(({ weights }, j) => {
        let mean = 0;
        for (let k = 0; k < weights.length; k++) mean += weights[k]! * g[at + k]!;
        at += weights.length;
        out[j] = g[0]! - mean;
      });
      return out;
    },
  };
}
