import { describe, expect, it } from 'vitest';
import { DRIFT_EPSILON, ExplanationBackground, parseSince } from '@apinode/protocol';
import { mulberry32 } from '../../src/inference/explain/random.js';
import { collectProduction, busiestGeneration } from '../../src/drift/production.js';
import { featureReference } from '../../src/drift/reference.js';
import { driftReport } from '../../src/drift/report.js';
import { ksStatistic, psi } from '../../src/drift/stats.js';
import { emptyReadStats } from '../../src/observability/query-log-reader.js';
import { massSd, penguinReference, penguinTraffic } from '../support/drift-traffic.js';

const sorted = (xs: number[]) => Float64Array.from(xs).sort();

describe('drift statistics', () => {
  it('PSI is the sum of (p - q) ln(p / q), empty bins floored at the epsilon', () => {
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(-0.25 * Math.log(0.5) + 0.25 * Math.log(1.5), 12);
    expect(psi([1, 0], [0.5, 0.5])).toBeCloseTo(-0.5 * Math.log(0.5) + (0.5 - DRIFT_EPSILON) * Math.log(0.5 / DRIFT_EPSILON), 12);
    expect(psi([0.2, 0.3, 0.5, 0], [0.2, 0.3, 0.5, 0])).toBe(0);
    expect(() => psi([1], [0.5, 0.5])).toThrow(RangeError);
  });

  it('the two-sample KS statistic matches SciPy ks_2samp on its documented example, and handles ties', () => {
    const xs = [0.95692026, 1.1348812, -0.76579239, -0.58065653, -0.05122393, 0.71598754, 1.39873528, 0.42790527, 1.84580764, 0.64228521];
    const ys = [0.6948678, -0.3741825, 0.36657279, 1.15834174, -0.32421706, -0.38499295, 1.44976991, 0.2504608, -0.53694774, 1.42221993];
    expect(ksStatistic(sorted(xs), sorted(ys))).toBeCloseTo(0.3, 12);
    expect(ksStatistic(sorted([1, 1, 2]), sorted([1, 2, 2]))).toBeCloseTo(1 / 3, 12);
    expect(ksStatistic(sorted([1, 2, 3]), sorted([1, 2, 3]))).toBe(0);
    expect(ksStatistic(sorted([1, 2]), sorted([5, 6]))).toBe(1);
    expect(ksStatistic(sorted([]), sorted([1]))).toBeNaN();
  });

  it('parses since as a duration back from now or an ISO date-time, and nothing else', () => {
    const now = new Date('2026-12-02T12:00:00Z');
    expect(parseSince('24h', now)?.toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(parseSince('90m', now)?.toISOString()).toBe('2026-12-02T10:30:00.000Z');
    expect(parseSince('7d', now)?.toISOString()).toBe('2026-11-25T12:00:00.000Z');
    expect(parseSince('2026-12-01T00:00:00Z', now)?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    for (const bad of ['', '24', 'h', '-1h', '1w', 'yesterday', '2026-12-01', '1e3h', '9999999h']) expect(parseSince(bad, now)).toBeNull();
  });
});

describe('drift references', () => {
  const rows = [{ x: 1, c: 'a' }, { x: 2, c: 'a' }, { x: null, c: 'b' }, { x: 4, c: 'z' }, { x: 5, c: null }];

  it('evenly spaced deciles cut the training set into equal bins; missing values get their own bin', () => {
    const bg = ExplanationBackground.parse({ rows, features: { x: { values: [1, 2, 3, 4], weights: [1, 1, 1, 1] } } });
    const ref = featureReference('x', 'NUMERIC', bg);
    expect(ref.source).toBe('STATISTICS');
    expect(ref.edges).toEqual([1, 2, 3, 4]);
    expect(ref.shares).toEqual([...Array.from({ length: 5 }, () => (1 / 5) * (4 / 5)), 1 / 5]);
    expect(Array.from(ref.sample)).toEqual([1, 2, 4, 5]);
  });

  it('merged deciles (a value holding a tenth or more) take their shares from the rows', () => {
    const bg = ExplanationBackground.parse({ rows, features: { x: { values: [2, 4], weights: [5, 4] } } });
    const ref = featureReference('x', 'NUMERIC', bg);
    expect(ref.source).toBe('ROWS');
    // (-inf, 2]: 1 and 2; (2, 4]: 4; (4, inf): 5; missing: one row of five.
    expect(ref.shares).toEqual([2 / 5, 1 / 5, 1 / 5, 1 / 5]);
  });

  it('categories share what the rows do not put in "(other)" or "(missing)", by their training counts', () => {
    const bg = ExplanationBackground.parse({ rows, features: { c: { values: ['a', 'b'], weights: [3, 1] } } });
    const ref = featureReference('c', 'CATEGORY', bg);
    expect(ref.categories).toEqual(['a', 'b']);
    // other ("z") 1/5, missing 1/5: a and b share 3/5 as 3:1.
    expect(ref.shares.map((s) => +s.toFixed(12))).toEqual([0.45, 0.15, 0.2, 0.2]);
  });
});

describe('drift report', () => {
  const scope = { serviceId: 's', endpointId: 'penguin-species', generationFilter: null, since: new Date(0), until: new Date(1) };

  it.each([1, 2, 3])('ranks a feature shifted by 2 sd first with PSI above 0.25, the others below 0.1 (seed %i)', async (seed) => {
    const sample = await collectProduction(penguinTraffic(2000, seed, 2 * massSd), mulberry32(seed));
    const report = driftReport(scope, sample, penguinReference, emptyReadStats());
    expect(report.features.map((f) => f.name)[0]).toBe('body_mass_g');
    expect(report.features[0]!.psi).toBeGreaterThan(0.25);
    expect(report.features[0]!.level).toBe('SIGNIFICANT');
    for (const f of report.features.slice(1)) expect(f.psi, f.name).toBeLessThan(0.1);
    // KS against the background rows: the shift moves about half of the mass or more past the other side.
    expect(report.features[0]!.ks).toBeGreaterThan(0.5);
  });

  it("computes a category's PSI as an independent sum over the training counts says", async () => {
    const sample = await collectProduction(penguinTraffic(1000, 9, 0), mulberry32(9));
    const report = driftReport(scope, sample, penguinReference, emptyReadStats());
    const island = report.features.find((f) => f.name === 'island')!;
    // Every penguin has an island, all three listed in the statistics: reference shares are the counts' shares.
    const counts = { Biscoe: 0, Dream: 0, Torgersen: 0 } as Record<string, number>;
    for (const r of sample.records) counts[r.features['island'] as string]!++;
    const expected = (['Biscoe', 'Dream', 'Torgersen'] as const).reduce((sum, c, i) => {
      const q = [168, 124, 52][i]! / 344;
      const p = counts[c]! / sample.records.length;
      return sum + (p - q) * Math.log(p / q);
    }, 0);
    expect(island.psi).toBeCloseTo(expected, 10);
    expect(island.bins.map((b) => b.label)).toEqual(['Biscoe', 'Dream', 'Torgersen']);
  });

  it('counts errors, ignored records and records without features, and samples uniformly past the cap', async () => {
    async function* lines() {
      yield* penguinTraffic(30, 4, 0);
      const base = { v: 1 as const, time: '2026-12-01T10:00:00.000Z', requestId: 'x', serviceId: 's', endpointId: 'penguin-species', action: 'predict', record: 0, caller: null, context: null, timing: {} };
      yield { ...base, generation: 'v2', features: null, result: null, status: 'error' as const, error: { type: 'INVALID_RECORD', httpStatus: 400 } };
      yield { ...base, generation: 'v2', features: { island: 'Dream' }, result: { ignored: true, ignoreReason: 'x' }, status: 'ok' as const };
      yield { ...base, generation: 'v2', features: { truncated: true, bytes: 99999 }, result: { prediction: 'Gentoo' }, status: 'ok' as const };
    }
    const sample = await collectProduction(lines(), mulberry32(1), 10);
    expect({ total: sample.total, errors: sample.errors, ignored: sample.ignored, withoutFeatures: sample.withoutFeatures, kept: sample.records.length }).toEqual({ total: 32, errors: 1, ignored: 1, withoutFeatures: 1, kept: 10 });
    expect(sample.byGeneration).toEqual({ v1: 30, v2: 2 });
    expect(busiestGeneration(sample.byGeneration)).toBe('v1');
    expect(busiestGeneration({ a: 2, b: 2 })).toBe('b');
    expect(busiestGeneration({})).toBeNull();
  });
});
