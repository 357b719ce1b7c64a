import { DRIFT_EPSILON } from '@apinode/protocol';

/*
 * The statistics of the drift report, written out rather than taken from a library: the two
 * measures are a few lines each and exact, and the general-purpose libraries that fit a Worker
 * bundle (simple-statistics, d3-array) offer quantiles and bisection but no two-sample
 * Kolmogorov-Smirnov statistic and no PSI. test/unit/drift-stats.test.ts checks them against
 * published values (SciPy's ks_2samp example) and against hand-computed sums.
 */

/**
 * Population stability index of two distributions over the same bins (shares summing to 1):
 * sum of (p - q) * ln(p / q), each share floored at DRIFT_EPSILON so an empty bin on one side
 * gives a large but finite term (and an empty bin on both sides gives 0).
 */
export function psi(reference: readonly number[], production: readonly number[]): number {
  if (reference.length !== production.length) throw new RangeError(`psi: ${reference.length} reference bins, ${production.length} production bins`);
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const q = Math.max(reference[i]!, DRIFT_EPSILON);
    const p = Math.max(production[i]!, DRIFT_EPSILON);
    sum += (p - q) * Math.log(p / q);
  }
  return sum;
}

/**
 * Two-sample Kolmogorov-Smirnov statistic: the largest distance between the two empirical
 * distribution functions, evaluated after every distinct value (ties move both together).
 * Both samples sorted ascending; NaN when either is empty.
 */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/** Index of the bin (lo, hi] a value falls in, for ascending distinct edges: 0 is (-inf, e0], edges.length is (e_last, +inf). */
export function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The 10%..90% deciles of a sorted sample, nearest rank, equal ones merged (as the demo build writes them). */
export function deciles(sorted: Float64Array): number[] {
  const out: number[] = [];
  for (let k = 1; k <= 9 && sorted.length > 0; k++) {
    const v = sorted[Math.max(0, Math.ceil((k / 10) * sorted.length) - 1)]!;
    if (out[out.length - 1] !== v) out.push(v);
  }
  return out;
}

/** Shares of counts (all 0 when the total is 0). */
export const shares = (counts: readonly number[], total: number): number[] => counts.map((c) => (total > 0 ? c / total : 0));

/** A number as a bin label: at most 6 significant digits, no exponent for everyday sizes. */
export const formatEdge = (x: number): string => String(Number(x.toPrecision(6)));
