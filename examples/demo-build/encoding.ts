/**
 * Feature encoding shared by training and export. The column descriptions are exactly the
 * manifest's MATRIX columns (v1), and the in-graph preprocessing of the COLUMNS models (v2)
 * uses the same shape with shift 0 / scale 1.
 */
import type { RawRecord } from './datasets.js';

export interface FeatureDef {
  name: string;
  type: 'NUMERIC' | 'CATEGORY';
}

export interface NumericColumn {
  feature: string;
  impute?: number;
  shift: number;
  scale: number;
}

export interface OneHotColumn {
  feature: string;
  oneHot: string[];
  impute?: string;
  unknown: 'ZEROS';
}

export type Column = NumericColumn | OneHotColumn;

export const isOneHot = (c: Column): c is OneHotColumn => 'oneHot' in c;

/** The shortest decimal that rounds to the same float32, so JSON stays short and ONNX gets the same value. */
export function f32(x: number): number {
  const target = Math.fround(x);
  if (!Number.isFinite(target) || target === 0) return target;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(target.toPrecision(p));
    if (Math.fround(candidate) === target) return candidate;
  }
  return target;
}

/** Rounds to `digits` significant digits (for encoding parameters). */
export const sig = (x: number, digits = 7): number => Number(x.toPrecision(digits));

function numericValues(records: RawRecord[], feature: string): number[] {
  return records.map((r) => r[feature]).filter((v): v is number => typeof v === 'number');
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Categories by descending frequency, ties alphabetical. */
export function categoriesByFrequency(records: RawRecord[], feature: string): string[] {
  const counts = new Map<string, number>();
  for (const r of records) {
    const v = r[feature];
    if (typeof v === 'string') counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k]) => k);
}

export interface FitOptions {
  /** linear models: standardize numerics and impute mean / most frequent category */
  standardize: boolean;
  /** keep only the most frequent categories of each categorical feature */
  maxCategories?: number;
  /** sort the kept categories alphabetically (small vocabularies) */
  alphabetical?: boolean;
}

export function fitColumns(records: RawRecord[], features: FeatureDef[], opts: FitOptions): Column[] {
  return features.map((f): Column => {
    if (f.type === 'CATEGORY') {
      const byFreq = categoriesByFrequency(records, f.name);
      let cats = byFreq.slice(0, opts.maxCategories ?? byFreq.length);
      if (opts.alphabetical) cats = [...cats].sort();
      const col: OneHotColumn = { feature: f.name, oneHot: cats, unknown: 'ZEROS' };
      if (opts.standardize) col.impute = byFreq[0]!;
      return col;
    }
    const xs = numericValues(records, f.name);
    if (!opts.standardize) return { feature: f.name, impute: f32(median(xs)), shift: 0, scale: 1 };
    const mu = mean(xs);
    const sd = Math.sqrt(mean(xs.map((x) => (x - mu) ** 2)));
    return { feature: f.name, impute: sig(mu), shift: sig(mu), scale: sig(1 / sd) };
  });
}

export function width(columns: Column[]): number {
  return columns.reduce((w, c) => w + (isOneHot(c) ? c.oneHot.length : 1), 0);
}

/** Column names of the encoded matrix, e.g. "island=Biscoe", "body_mass_g". */
export function columnNames(columns: Column[]): string[] {
  return columns.flatMap((c) => (isOneHot(c) ? c.oneHot.map((k) => `${c.feature}=${k}`) : [c.feature]));
}

/** Encodes one record like the node does for MATRIX inputs (float64 here; ONNX sees float32). */
export function encodeRow(record: RawRecord, columns: Column[]): number[] {
  const out: number[] = [];
  for (const c of columns) {
    const v = record[c.feature];
    if (isOneHot(c)) {
      const cat = typeof v === 'string' ? v : c.impute;
      for (const k of c.oneHot) out.push(cat === k ? 1 : 0);
    } else {
      const x = typeof v === 'number' ? v : (c.impute ?? NaN);
      out.push((x - c.shift) * c.scale);
    }
  }
  return out;
}

export const encodeRows = (records: RawRecord[], columns: Column[]): number[][] => records.map((r) => encodeRow(r, columns));
