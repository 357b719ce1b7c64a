import type { FeatureRecord } from '../encoding.js';
import type { Background } from './background.js';
import { restrict, type Perturbation } from './perturbation.js';
import { permutation } from './random.js';

/**
 * Monte Carlo permutation estimate of the Shapley values of the game
 * v(S) = mean over background rows z of g(x on S, z elsewhere) (Strumbelj & Kononenko).
 *
 * Each step draws a feature order and a background row z, then walks from z to x switching
 * one feature at a time: the d+1 rows of the walk give every feature's marginal contribution
 * at once, and their sum telescopes to g(x) - g(z). Background rows are drawn without
 * replacement (cycling through a shuffled order), so with `steps` a multiple of their count the
 * contributions sum exactly to g(x) minus the background mean. The walk's last row is x itself,
 * shared with row 0: rows = 1 + steps x d.
 */
export function shapleyPerturbation(x: FeatureRecord, features: readonly string[], bg: Background, steps: number, rng: () => number): Perturbation {
  const d = features.length;
  const base = restrict(x, features);
  const rows: FeatureRecord[] = [base];
  const orders: Int32Array[] = [];
  let draw = permutation(bg.rows.length, rng);
  for (let s = 0; s < steps; s++) {
    const b = s % bg.rows.length;
    if (s > 0 && b === 0) draw = permutation(bg.rows.length, rng);
    const order = permutation(d, rng);
    orders.push(order);
    let row: Record<string, unknown> = { ...bg.rows[draw[b]!] };
    rows.push(row);
    for (let k = 0; k < d - 1; k++) {
      const f = features[order[k]!]!;
      row = { ...row, [f]: base[f] };
      rows.push(row);
    }
  }
  return {
    rows,
    contributions(g) {
      const out = new Float64Array(d);
      orders.forEach((order, s) => {
        const at = 1 + s * d;
        for (let k = 0; k < d; k++) {
          const after = k === d - 1 ? g[0]! : g[at + k + 1]!;
          out[order[k]!]! += after - g[at + k]!;
        }
      });
      for (let j = 0; j < d; j++) out[j]! /= steps;
      return out;
    },
  };
}
