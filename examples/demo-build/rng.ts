/** The node's own seeded PRNG (mulberry32), so every build draws the same numbers. */
export { mulberry32 } from '../../src/inference/explain/random.js';

/** k distinct indices out of 0..n-1, in ascending order (deterministic for a given rng). */
export function sampleIndices(n: number, k: number, rng: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, Math.min(k, n)).sort((a, b) => a - b);
}
