import { describe, expect, it } from 'vitest';
import { buildSeries } from '../../src/kinds/forecast/series.js';
import { isoTime, parseTime, periodOf } from '../../src/kinds/forecast/time.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

describe('parseTime', () => {
  it('reads ISO dates and date-times as UTC unless they give an offset', () => {
    expect(iso(parseTime('2000-01-15'))).toBe('2000-01-15T00:00:00.000Z');
    expect(iso(parseTime('2000-01'))).toBe('2000-01-01T00:00:00.000Z');
    expect(iso(parseTime('2000-01-15T10:30'))).toBe('2000-01-15T10:30:00.000Z');
    expect(iso(parseTime('2000-01-15 10:30:05.250Z'))).toBe('2000-01-15T10:30:05.250Z');
    expect(iso(parseTime('2000-01-15T10:30:00+02:00'))).toBe('2000-01-15T08:30:00.000Z');
  });

  it('reads English month names the same way on every runtime', () => {
    expect(iso(parseTime('Jan 1 2000'))).toBe('2000-01-01T00:00:00.000Z');
    expect(iso(parseTime('September 30, 2001'))).toBe('2001-09-30T00:00:00.000Z');
    expect(iso(parseTime('1 Mar 2010 12:00'))).toBe('2010-03-01T12:00:00.000Z');
  });

  it('reads numbers as epoch milliseconds', () => {
    expect(parseTime(946684800000)).toBe(946684800000);
  });

  it('refuses what is not a real date rather than rolling it over', () => {
    for (const v of ['2001-02-29', '2000-13-01', 'Foo 1 2000', 'someday', '', null, true, {}, Infinity]) expect(parseTime(v)).toBeNull();
    expect(iso(parseTime('2000-02-29'))).toBe('2000-02-29T00:00:00.000Z');
  });
});

describe('the frequency grid', () => {
  const month = { unit: 'MONTH', step: 1 } as const;

  it('puts every day of a month in the same monthly period and steps by calendar months', () => {
    expect(periodOf(parseTime('2000-01-31')!, month)).toBe(periodOf(parseTime('2000-01-01')!, month));
    const p = periodOf(parseTime('2000-11-20')!, month);
    expect([1, 2, 3, 4].map((k) => isoTime(p + k, month))).toEqual(['2000-12-01T00:00:00.000Z', '2001-01-01T00:00:00.000Z', '2001-02-01T00:00:00.000Z', '2001-03-01T00:00:00.000Z']);
  });

  it('steps quarters and years by calendar months, and days, hours and weeks by fixed durations', () => {
    expect(isoTime(periodOf(parseTime('2023-11-05')!, { unit: 'QUARTER', step: 1 }) + 1, { unit: 'QUARTER', step: 1 })).toBe('2024-01-01T00:00:00.000Z');
    expect(isoTime(periodOf(parseTime('2023-11-05')!, { unit: 'YEAR', step: 1 }) + 1, { unit: 'YEAR', step: 1 })).toBe('2024-01-01T00:00:00.000Z');
    expect(isoTime(periodOf(parseTime('2024-02-28T23:59')!, { unit: 'DAY', step: 1 }) + 2, { unit: 'DAY', step: 1 })).toBe('2024-03-01T00:00:00.000Z');
    expect(isoTime(periodOf(parseTime('2024-01-01T10:59')!, { unit: 'MINUTE', step: 15 }) + 1, { unit: 'MINUTE', step: 15 })).toBe('2024-01-01T11:00:00.000Z');
    // 2024-01-03 is a Wednesday: its week started on Monday 2024-01-01.
    expect(isoTime(periodOf(parseTime('2024-01-03')!, { unit: 'WEEK', step: 1 }), { unit: 'WEEK', step: 1 })).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('buildSeries', () => {
  const spec: Parameters<typeof buildSeries>[0] = {
    timeVariable: 't',
    frequency: { unit: 'DAY', step: 1 },
    timeseriesIdentifiers: ['id'],
    target: 'y',
    windowLength: 3,
    resampling: { duplicates: 'IGNORE_SERIES', missing: 'INTERPOLATE', maxFilledPeriods: 1 },
  };
  const day = (d: number) => `2024-01-${String(d).padStart(2, '0')}`;

  it('splits records into series in order of appearance and cuts the last window, sorted by time', () => {
    const items = [
      { id: 'b', t: day(3), y: 30 },
      { id: 'a', t: day(2), y: 2 },
      { id: 'b', t: day(1), y: 10 },
      { id: 'a', t: day(1), y: 1 },
      { id: 'b', t: day(2), y: '20' },
      { id: 'a', t: day(3), y: 3 },
      { id: 'a', t: day(4), y: 4 },
    ];
    const out = buildSeries(spec, items);
    expect(out.map((s) => s.identifier)).toEqual([{ id: 'b' }, { id: 'a' }]);
    expect(out).toEqual([
      { identifier: { id: 'b' }, window: [10, 20, 30], last: periodOf(parseTime(day(3))!, spec.frequency) },
      { identifier: { id: 'a' }, window: [2, 3, 4], last: periodOf(parseTime(day(4))!, spec.frequency) },
    ]);
  });

  it('treats a missing identifier as its own series (null)', () => {
    const out = buildSeries(spec, [1, 2, 3].map((d) => ({ t: day(d), y: d })));
    expect(out[0]?.identifier).toEqual({ id: null });
  });

  it('fills at most maxFilledPeriods consecutive gaps, and says why it ignores a series', () => {
    const two = buildSeries(spec, [{ id: 'a', t: day(1), y: 1 }, { id: 'a', t: day(4), y: 4 }]);
    expect(two[0]).toEqual({ identifier: { id: 'a' }, ignoreReason: 'no value for the period starting 2024-01-03T00:00:00.000Z: more than 1 consecutive periods to fill' });
    const last = buildSeries(spec, [1, 2, 3].map((d) => ({ id: 'a', t: day(d), y: d === 3 ? 'n/a' : d })));
    expect(last[0]).toMatchObject({ ignoreReason: 'the "y" of the period starting 2024-01-03T00:00:00.000Z is missing and nothing follows it to interpolate' });
    const none = buildSeries(spec, [{ id: 'a', t: day(1), y: null }]);
    expect(none[0]).toMatchObject({ ignoreReason: 'no record has a numeric "y"' });
  });
});
