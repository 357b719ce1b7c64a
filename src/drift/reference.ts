import type { ExplanationBackground } from '@apinode/protocol';
import { binOf, deciles, shares } from './stats.js';

/*
 * The reference distribution of one feature, from what a generation carries for explanations
 * (docs/generation-format.md): `features[name]`, statistics over the whole training set (the
 * deciles of a number, the counts of the most frequent categories), and `rows`, a sample of
 * training records (about 100). Shares come from the statistics where they say them exactly: a
 * sample of 100 rows alone puts the PSI of an unchanged feature near 0.09 with 10 bins, right
 * at the 0.1 convention; the statistics leave only the production side's sampling noise.
 */

/** Bins are the interval bins (numbers) or the categories, then "(other)" (categories), then "(missing)". */
export interface FeatureReference {
  readonly name: string;
  readonly kind: 'NUMERIC' | 'CATEGORY';
  readonly source: 'STATISTICS' | 'ROWS';
  /** NUMERIC: ascending distinct bin edges. */
  readonly edges: readonly number[];
  /** CATEGORY: the categories with a bin of their own, and their bins. */
  readonly categories: readonly string[];
  readonly categoryBins: ReadonlyMap<string, number>;
  readonly shares: readonly number[];
  /** NUMERIC: the background rows' values, sorted (the KS statistic's reference sample). */
  readonly sample: Float64Array;
  readonly rows: number;
  readonly rowsMissing: number;
}

/** A logged value as a number: numbers and numeric strings; anything else is missing. */
export function numberOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** A logged value as a category: strings, numbers and booleans as text; null, "" and the rest are missing. */
export function categoryOf(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function featureReference(name: string, kind: 'NUMERIC' | 'CATEGORY', background: ExplanationBackground): FeatureReference {
  return kind === 'NUMERIC' ? numericReference(name, background) : categoryReference(name, background);
}

/**
 * Deciles with equal weights (no two merged) are quantiles at evenly spaced levels: K of them cut
 * the training set into K + 1 bins of 1 / (K + 1) each. Merged deciles (weights above 1) mark a
 * value holding a tenth of the data or more, where the levels no longer say how much each bin
 * holds: the bins stay at the distinct values, and their shares are counted in the rows.
 */
function numericReference(name: string, background: ExplanationBackground): FeatureReference {
  const values = background.rows.map((r) => numberOf(r[name]));
  const sample = Float64Array.from(values.filter((v): v is number => v !== null)).sort();
  const rowsMissing = values.length - sample.length;
  const missingShare = values.length > 0 ? rowsMissing / values.length : 0;
  const stat = background.features[name];
  const cuts = stat?.values.every((v) => typeof v === 'number') ? (stat.values as number[]) : null;
  const ascending = cuts !== null && cuts.every((c, i) => i === 0 || cuts[i - 1]! < c);
  const evenlySpaced = ascending && (stat?.weights ?? []).every((w, _i, all) => w === all[0]);
  let edges: number[];
  let intervals: number[];
  let source: FeatureReference['source'];
  if (cuts && evenlySpaced) {
    edges = cuts;
    intervals = Array.from({ length: cuts.length + 1 }, () => 1 / (cuts.length + 1));
    source = 'STATISTICS';
  } else {
    edges = cuts && ascending ? cuts : deciles(sample);
    const counts = new Array<number>(edges.length + 1).fill(0);
    for (const v of sample) counts[binOf(edges, v)]!++;
    intervals = shares(counts, sample.length);
    source = 'ROWS';
  }
  return {
    name,
    kind: 'NUMERIC',
    source,
    edges,
    categories: [],
    categoryBins: new Map(),
    shares: [...intervals.map((s) => s * (1 - missingShare)), missingShare],
    sample,
    rows: values.length,
    rowsMissing,
  };
}

/** Most frequent categories a reference built from rows alone keeps a bin for. */
const MAX_ROW_CATEGORIES = 10;

/**
 * The statistics list the most frequent categories with their counts over the training set; the
 * rows say how much falls outside them ("(other)") and how much is missing, which the counts
 * do not. Without statistics, the rows' own most frequent categories and shares.
 */
function categoryReference(name: string, background: ExplanationBackground): FeatureReference {
  const values = background.rows.map((r) => categoryOf(r[name]));
  const rowsMissing = values.filter((v) => v === null).length;
  const n = values.length;
  const stat = background.features[name];
  const listed: { value: string; weight: number }[] = [];
  stat?.values.forEach((v, i) => {
    const value = categoryOf(v);
    if (value !== null && !listed.some((l) => l.value === value)) listed.push({ value, weight: stat.weights?.[i] ?? 1 });
  });
  const missingShare = n > 0 ? rowsMissing / n : 0;
  if (listed.length > 0) {
    const known = new Set(listed.map((l) => l.value));
    const otherShare = n > 0 ? values.filter((v) => v !== null && !known.has(v)).length / n : 0;
    const total = listed.reduce((a, l) => a + l.weight, 0);
    const listedShare = 1 - otherShare - missingShare;
    return {
      name,
      kind: 'CATEGORY',
      source: 'STATISTICS',
      edges: [],
      categories: listed.map((l) => l.value),
      categoryBins: new Map(listed.map((l, i) => [l.value, i])),
      shares: [...listed.map((l) => (l.weight / total) * listedShare), otherShare, missingShare],
      sample: new Float64Array(0),
      rows: n,
      rowsMissing,
    };
  }
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_ROW_CATEGORIES);
  const inTop = top.reduce((a, [, c]) => a + c, 0);
  return {
    name,
    kind: 'CATEGORY',
    source: 'ROWS',
    edges: [],
    categories: top.map(([v]) => v),
    categoryBins: new Map(top.map(([v], i) => [v, i])),
    shares: [...shares(top.map(([, c]) => c), n), n > 0 ? (n - rowsMissing - inTop) / n : 0, missingShare],
    sample: new Float64Array(0),
    rows: n,
    rowsMissing,
  };
}

/**
 * Counts a production value into its bin: an interval or a category, then "(other)", then
 * "(missing)"; answers the number (NUMERIC) or null. Against deciles, a value equal to a cut point
 * counts half in each bin beside it: a nearest-rank decile is a level somewhere inside that
 * value's run of ties, so the training set's share of the tie on each side is unknown, and a
 * whole-tie count on one side (integers, rounded measurements) biases the PSI of an unchanged
 * feature upward. Continuous values almost never equal a cut point, and are not affected.
 */
export function countValue(ref: FeatureReference, v: unknown, counts: number[]): number | null {
  if (ref.kind === 'NUMERIC') {
    const x = numberOf(v);
    if (x === null) {
      counts[ref.edges.length + 1]!++;
      return null;
    }
    const bin = binOf(ref.edges, x);
    if (ref.source === 'STATISTICS' && ref.edges[bin] === x) {
      counts[bin]! += 0.5;
      counts[bin + 1]! += 0.5;
    } else counts[bin]!++;
    return x;
  }
  const c = categoryOf(v);
  counts[c === null ? ref.categories.length + 1 : (ref.categoryBins.get(c) ?? ref.categories.length)]!++;
  return null;
}
