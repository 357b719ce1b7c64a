/** Why a record cannot be scored; caught per record, so one bad record never fails a batch. */
export class UnusableRecord extends Error {}

/** Missing means absent, null or an empty string, as DSS reads CSV-like input. */
export function isMissing(v: unknown): v is undefined | null | '' {
  return v === undefined || v === null || v === '';
}

export function toNumber(feature: string, v: unknown): number {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return NaN;
    if (!Number.isFinite(v)) throw new UnusableRecord(`feature "${feature}": ${v} is not a finite number`);
    return v;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v.trim());
    if (v.trim() !== '' && Number.isFinite(n)) return n;
  }
  throw new UnusableRecord(`feature "${feature}": ${preview(v)} is not a number`);
}

export function toCategory(feature: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new UnusableRecord(`feature "${feature}": ${preview(v)} is not a category`);
}

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
