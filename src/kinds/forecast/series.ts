import type { ForecastEndpointSpec } from '@apinode/protocol';
import { isMissing } from '../../inference/values.js';
import { isoTime, parseTime, periodOf } from './time.js';

export type SeriesIdentifier = Record<string, string | null>;

/** A series ready for the model: its last windowLength values, oldest first, ending at period `last`. */
export interface Windowed {
  readonly identifier: SeriesIdentifier;
  readonly window: readonly number[];
  readonly last: number;
}

export interface Ignored {
  readonly identifier: SeriesIdentifier;
  readonly ignoreReason: string;
}

export type Series = Windowed | Ignored;
export const isIgnored = (s: Series): s is Ignored => 'ignoreReason' in s;

type Spec = Pick<ForecastEndpointSpec, 'timeVariable' | 'frequency' | 'timeseriesIdentifiers' | 'target' | 'windowLength' | 'resampling'>;

/** Why one series cannot be forecast; thrown inside a series, answered as `ignored` for it alone. */
class Unusable extends Error {}

/**
 * Splits a request's records into series (in the order they first appear), sorts each by
 * time, resamples it onto the frequency grid and cuts the model's window, following the
 * endpoint's resampling rules. A series that cannot be made regular is ignored with a reason.
 */
export function buildSeries(spec: Spec, items: readonly Readonly<Record<string, unknown>>[]): Series[] {
  const groups = new Map<string, { identifier: SeriesIdentifier; rows: [number, Readonly<Record<string, unknown>>][] }>();
  items.forEach((rec, i) => {
    const identifier: SeriesIdentifier = {};
    for (const col of spec.timeseriesIdentifiers) identifier[col] = isMissing(rec[col]) ? null : String(rec[col]);
    const key = JSON.stringify(spec.timeseriesIdentifiers.map((c) => identifier[c]));
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { identifier, rows: [] }));
    g.rows.push([i, rec]);
  });
  return [...groups.values()].map(({ identifier, rows }) => {
    try {
      return { identifier, ...window(spec, rows) };
    } catch (e) {
      if (!(e instanceof Unusable)) throw e;
      return { identifier, ignoreReason: e.message };
    }
  });
}

function window(spec: Spec, rows: [number, Readonly<Record<string, unknown>>][]): { window: number[]; last: number } {
  const { frequency: f, resampling: r, windowLength: w } = spec;
  // Values per period; null marks a record whose target is missing or not a number.
  const periods = new Map<number, number[]>();
  const seen = new Set<number>();
  const timed = rows.map(([i, rec]) => {
    const t = parseTime(rec[spec.timeVariable]);
    if (t === null) throw new Unusable(`record ${i}: ${describe(rec[spec.timeVariable])} in "${spec.timeVariable}" is not a date`);
    return { t, i, y: targetOf(rec[spec.target]) };
  });
  timed.sort((a, b) => a.t - b.t || a.i - b.i);
  let last = -Infinity;
  for (const { t, y } of timed) {
    const p = periodOf(t, f);
    seen.add(p);
    last = Math.max(last, p);
    if (y === null) continue;
    const values = periods.get(p);
    if (!values) periods.set(p, [y]);
    else if (r.duplicates === 'IGNORE_SERIES') throw new Unusable(`several values for the period starting ${isoTime(p, f)}`);
    else values.push(y);
  }
  const known = [...periods.keys()].sort((a, b) => a - b);
  const value = (p: number): number | undefined => {
    const v = periods.get(p);
    if (!v) return undefined;
    return r.duplicates === 'LAST' ? (v[v.length - 1] as number) : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const first = known[0];
  if (first === undefined) throw new Unusable(`no record has a numeric "${spec.target}"`);
  const start = last - w + 1;
  if (first > start) throw new Unusable(`needs ${w} periods of history, has ${last - first + 1}`);
  const out = new Array<number>(w);
  let run = 0;
  for (let k = 0; k < w; k++) {
    const p = start + k;
    const v = value(p);
    if (v !== undefined) {
      out[k] = v;
      run = 0;
      continue;
    }
    const what = seen.has(p) ? `the "${spec.target}" of the period starting ${isoTime(p, f)} is missing` : `no value for the period starting ${isoTime(p, f)}`;
    if (r.missing === 'IGNORE_SERIES') throw new Unusable(what);
    if (++run > r.maxFilledPeriods) throw new Unusable(`${what}: more than ${r.maxFilledPeriods} consecutive periods to fill`);
    const before = known.filter((q) => q < p).at(-1);
    const after = known.find((q) => q > p);
    if (before === undefined) throw new Unusable(`${what} and nothing precedes it`);
    if (r.missing === 'PREVIOUS') out[k] = value(before) as number;
    else if (after === undefined) throw new Unusable(`${what} and nothing follows it to interpolate`);
    else {
      const a = value(before) as number;
      out[k] = a + (((value(after) as number) - a) * (p - before)) / (after - before);
    }
  }
  return { window: out, last };
}

function targetOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
