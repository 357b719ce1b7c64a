/** Lloyd's k-means with seeded k-means++ initialisation; clusters are ordered by their first coordinate. */
import { f32 } from './encoding.js';
import { mulberry32 } from './rng.js';

const dist2 = (a: number[], b: number[]): number => a.reduce((s, v, j) => s + (v - b[j]!) ** 2, 0);

export function kmeansCentroids(X: number[][], k: number, seed: number, iterations = 100): number[][] {
  const rng = mulberry32(seed);
  const centroids: number[][] = [X[Math.floor(rng() * X.length)]!];
  while (centroids.length < k) {
    const d = X.map((x) => Math.min(...centroids.map((c) => dist2(x, c))));
    let r = rng() * d.reduce((a, b) => a + b, 0);
    let i = 0;
    while (i < X.length - 1 && r > d[i]!) r -= d[i++]!;
    centroids.push([...X[i]!]);
  }
  for (let it = 0; it < iterations; it++) {
    const sums = centroids.map((c) => c.map(() => 0));
    const counts = centroids.map(() => 0);
    for (const x of X) {
      let best = 0;
      centroids.forEach((c, j) => (dist2(x, c) < dist2(x, centroids[best]!) ? (best = j) : undefined));
      counts[best]! += 1;
      x.forEach((v, j) => (sums[best]![j]! += v));
    }
    centroids.forEach((c, j) => c.forEach((_, d) => (c[d] = counts[j]! ? sums[j]![d]! / counts[j]! : c[d]!)));
  }
  return centroids.sort((a, b) => a[0]! - b[0]!).map((c) => c.map(f32));
}
