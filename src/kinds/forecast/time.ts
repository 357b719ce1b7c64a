import type { Frequency } from '@apinode/protocol';

/*
 * The time axis of forecasts, in UTC and without Date.parse: non-ISO date parsing is
 * implementation-defined (and local-time on Node), so the same request would not give the
 * same periods on Node, workerd and Lambda.
 */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const ISO = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
/** "Jan 1 2000", "January 1, 2000", "1 Jan 2000", optionally followed by "HH:MM[:SS]". */
const MONTH_DAY_YEAR = /^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$/;
const DAY_MONTH_YEAR = /^(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

const DAY_MS = 86_400_000;
const FIXED_MS: Record<string, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: DAY_MS, WEEK: 7 * DAY_MS };
const MONTHS_PER: Record<string, number> = { MONTH: 1, QUARTER: 3, YEAR: 12 };
/** Weeks start on Mondays: 1970-01-05 is the first Monday after the epoch. */
const WEEK_ANCHOR_MS = 4 * DAY_MS;

/**
 * Epoch milliseconds of a time value: a finite number (epoch ms), an ISO 8601 date or date-time
 * (UTC unless it gives an offset; "2000-01" is the month's first day), or an English
 * "Jan 1 2000" / "1 Jan 2000". Null when it is none of these or not a real calendar date.
 */
export function parseTime(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  let m = ISO.exec(s);
  if (m) {
    const offset = m[8] && m[8].toUpperCase() !== 'Z' ? offsetMs(m[8]) : 0;
    const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
    return utc(+m[1]!, +m[2]!, m[3] ? +m[3] : 1, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0, ms, offset);
  }
  m = MONTH_DAY_YEAR.exec(s);
  if (m) return named(m[1]!, m[2]!, m[3]!, m[4], m[5], m[6]);
  m = DAY_MONTH_YEAR.exec(s);
  if (m) return named(m[2]!, m[1]!, m[3]!, m[4], m[5], m[6]);
  return null;
}

function named(month: string, day: string, year: string, h?: string, mi?: string, sec?: string): number | null {
  const lower = month.toLowerCase();
  const k = MONTHS.findIndex((name) => name === lower || name.slice(0, 3) === lower);
  if (k < 0) return null;
  return utc(+year, k + 1, +day, h ? +h : 0, mi ? +mi : 0, sec ? +sec : 0, 0, 0);
}

function offsetMs(o: string): number {
  const sign = o.startsWith('-') ? -1 : 1;
  const digits = o.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** Date.UTC, refusing what it would silently roll over (Feb 30, 25:00). */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offset: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (new Date(t).getUTCDate() !== d) return null;
  return t - offset;
}

/** The index of the period (step of the frequency grid) that contains t. */
export function periodOf(t: number, f: Frequency): number {
  const months = MONTHS_PER[f.unit];
  if (months !== undefined) {
    const d = new Date(t);
    return Math.floor(((d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth()) / (months * f.step));
  }
  const anchor = f.unit === 'WEEK' ? WEEK_ANCHOR_MS : 0;
  return Math.floor((t - anchor) / ((FIXED_MS[f.unit] as number) * f.step));
}

/** When period p starts: calendar months for MONTH, QUARTER and YEAR, so steps never drift. */
export function periodStart(p: number, f: Frequency): number {
  const months = MONTHS_PER[f.unit];
  if (months !== undefined) {
    const m = p * months * f.step;
    return Date.UTC(1970 + Math.floor(m / 12), ((m % 12) + 12) % 12, 1);
  }
  const anchor = f.unit === 'WEEK' ? WEEK_ANCHOR_MS : 0;
  return anchor + p * (FIXED_MS[f.unit] as number) * f.step;
}

export const isoTime = (p: number, f: Frequency): string => new Date(periodStart(p, f)).toISOString();

/** A period's start as the DSS API node writes forecast times: ISO 8601, UTC, microseconds ("….000000Z"). */
export const dssTime = (p: number, f: Frequency): string => isoTime(p, f).replace(/Z$/, '000Z');
