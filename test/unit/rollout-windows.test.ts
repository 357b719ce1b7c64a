import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { MetricWindows, WINDOW_BOUNDS_MS, minuteOf, windowKey } from '../../src/rollout/metric-windows.js';
import { mappingAt } from '../../src/rollout/plan.js';
import { quantile, readFigures } from '../../src/rollout/window-reader.js';
import { FlakyStore, tempStore } from '../support/stores.js';
import { fakeClock, T0 } from '../support/rollout-lab.js';

const MIN = 60_000;

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('metric windows', () => {
  it('sum, across instances and minutes, to what was recorded; p99 falls in the bucket of the true p99', async () => {
    const { store } = await tempStore();
    const clock = fakeClock(T0 + 5_000);
    const instances = [0, 1, 2].map((i) => new MetricWindows(store, { now: clock.now, log: silentLogger, instance: `i${i}` }));
    const rnd = lcg(7);
    const seen = { requests: 0, serverErrors: 0, clientErrors: 0, latencies: [] as number[] };
    for (let minute = 0; minute < 3; minute++) {
      for (let i = 0; i < 300; i++) {
        const ms = rnd() < 0.97 ? 1 + rnd() * 40 : 100 + rnd() * 800;
        const status = rnd() < 0.05 ? 500 : rnd() < 0.05 ? 404 : 200;
        instances[i % 3]!.record('svc', 'g2', status, ms);
        // Another generation's traffic, which must not count.
        instances[i % 3]!.record('svc', 'g1', 500, 3000);
        seen.requests++;
        seen.latencies.push(ms);
        if (status === 500) seen.serverErrors++;
        if (status === 404) seen.clientErrors++;
        // Mid-minute writes, rewritten with fuller counts later.
        if (i === 150) await Promise.all(instances.map((w) => w.flush()));
      }
      clock.advance(MIN);
      await Promise.all(instances.map((w) => w.flush()));
    }
    const f = await readFigures(store, 'svc', 'g2', T0 + 5_000, clock.now());
    expect(f).toMatchObject({ requests: seen.requests, serverErrors: seen.serverErrors, clientErrors: seen.clientErrors, windows: 9 });
    expect(f.errorRate).toBeCloseTo(seen.serverErrors / seen.requests, 12);
    const sorted = [...seen.latencies].sort((a, b) => a - b);
    const trueP99 = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    const bucket = (ms: number) => WINDOW_BOUNDS_MS.findIndex((b) => ms <= b);
    expect(bucket(f.p99Ms!)).toBe(bucket(trueP99));
    // Only the last minute.
    const last = await readFigures(store, 'svc', 'g2', T0 + 2 * MIN, clock.now() - MIN);
    expect(last.requests).toBe(300);
  });

  it('are written at most once a minute, and a write that failed is tried again', async () => {
    const { store: inner } = await tempStore();
    const store = new FlakyStore(inner);
    const clock = fakeClock();
    const w = new MetricWindows(store, { now: clock.now, log: silentLogger, instance: 'x' });
    w.record('svc', 'g', 200, 3);
    expect(w.due()).toBe(false);
    clock.advance(59_000);
    expect(w.due()).toBe(false);
    clock.advance(1_000);
    expect(w.due()).toBe(true);
    store.down = true;
    await w.flushIfDue();
    store.down = false;
    expect(await inner.list('metrics/')).toEqual([]);
    clock.advance(MIN);
    await w.flushIfDue();
    expect(await inner.list('metrics/')).toEqual([windowKey('svc', 'g', minuteOf(T0), 'x')]);
    expect(w.due()).toBe(false);
  });

  it('skips a window that is not one (torn or foreign), and counts nothing outside the range', async () => {
    const { store } = await tempStore();
    const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
    const good = { requests: 10, serverErrors: 1, clientErrors: 0, boundsMs: [...WINDOW_BOUNDS_MS], counts: [10, ...WINDOW_BOUNDS_MS.map(() => 0)] };
    await store.put(windowKey('s', 'g', minuteOf(T0), 'a'), enc(good));
    await store.put(windowKey('s', 'g', minuteOf(T0), 'b'), enc('{"requests": 5'));
    await store.put(windowKey('s', 'g', minuteOf(T0), 'c'), enc({ ...good, counts: [1] }));
    await store.put(windowKey('s', 'g', minuteOf(T0 - MIN), 'a'), enc(good));
    await store.put(windowKey('s', 'g', minuteOf(T0 + 2 * MIN), 'a'), enc(good));
    expect(await readFigures(store, 's', 'g', T0 + 10_000, T0 + MIN + 59_000)).toMatchObject({ requests: 10, serverErrors: 1, windows: 1, p99Ms: 0.99 });
  });
});

describe('rollout arithmetic', () => {
  it('estimates a quantile inside its bucket, null above the largest bound or without observations', () => {
    // 100 observations in (100, 250]: the 99th is 99% of the way through the bucket.
    const counts = WINDOW_BOUNDS_MS.map((b) => (b === 250 ? 100 : 0)).concat(0);
    expect(quantile(0.99, WINDOW_BOUNDS_MS, counts)).toBeCloseTo(100 + 150 * 0.99, 9);
    expect(quantile(0.99, WINDOW_BOUNDS_MS, WINDOW_BOUNDS_MS.map(() => 0).concat(5))).toBeNull();
    expect(quantile(0.99, WINDOW_BOUNDS_MS, WINDOW_BOUNDS_MS.map(() => 0).concat(0))).toBeNull();
  });

  it('takes the new generation\'s share from the others in their proportions, probas summing to 1', () => {
    const prev = { mode: 'SPLIT' as const, entries: [{ generation: 'a', proba: 0.5 }, { generation: 'b', proba: 0.25 }, { generation: 'new', proba: 0.25 }] };
    const m = mappingAt(prev, 'new', 10);
    expect(m).toEqual({ mode: 'SPLIT', entries: [{ generation: 'a', proba: expect.closeTo(0.6, 12) }, { generation: 'b', proba: expect.closeTo(0.3, 12) }, { generation: 'new', proba: 0.1 }] });
    expect(m.mode === 'SPLIT' && m.entries.reduce((s, e) => s + e.proba, 0)).toBeCloseTo(1, 12);
    expect(mappingAt(prev, 'new', 100)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'new' });
    expect(mappingAt({ mode: 'SINGLE_GENERATION', generation: 'a' }, 'new', 0)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'a' });
  });
});
