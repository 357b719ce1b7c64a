/**
 * Races on the model threads (src/runtime/model-threads.ts), on real onnxruntime-web in real
 * worker threads: release and close while calls are queued, running, loading or being moved by a
 * recycle; a thread ended at its deadline under other models' queued runs; hostile bytes; many
 * concurrent runs around one long run; recycling under load; and random sequences of all of it
 * (fast-check). Every call must settle, within a bound, with its right answer or a typed error
 * (ModelError, ModelRuntimeError). The models answer their input x by construction
 * (test/support/hostile-models.ts), so each expected value is known without the node.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelError, ModelRuntimeError, type ModelSession } from '../../src/inference/model-runtime.js';
import { MiB, threads, y } from '../support/model-threads.js';
import type { ModelThreads } from '../../src/runtime/model-threads.js';
import { allocatingModel, slowRunModel } from '../support/hostile-models.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Tiny models: a constant 4-float allocation (good), x-sized allocation (grows the heap, or fails on x < 0), slow for large x. */
const good = () => allocatingModel([4]);
const SLOW = slowRunModel(300); // x = 64: ~0.2 s, 256: ~0.8 s, 512: ~2.5 s on the 2-core machine
const GARBAGE = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 255);

interface Outcome {
  readonly value?: unknown;
  readonly error?: unknown;
  readonly ms: number;
}

/** How a call settled, and after how long; a call still pending after `bound` ms is a hang (the test fails). */
async function settle(p: Promise<unknown>, bound = 20_000): Promise<Outcome> {
  const from = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hang: unsettled after ${bound} ms`)), bound)));
  const out = await Promise.race([p.then((value) => ({ value }), (error: unknown) => ({ error })), hang]);
  clearTimeout(timer);
  return { ...out, ms: performance.now() - from };
}

/** The right answer, or a typed model error (never a bare Error, never a hang). */
function rightOrTyped(o: Outcome, expected: unknown): void {
  if ('error' in o) {
    expect(o.error, String(o.error)).toBeInstanceOf(ModelError);
  } else expect(o.value).toEqual(expected);
}

/** Threads alive by the stats: started, less those replaced and those ended at a deadline. */
const live = (t: ModelThreads) => t.stats.started - t.stats.recycled - t.stats.killed;

describe('model threads under races', () => {
  it('release() with runs queued behind another model: each run, and one called after, answers or fails typed; the pool serves on', async () => {
    const t = threads();
    const slow = await t.load(SLOW);
    const s = await t.load(good());
    const long = settle(y(slow, 256));
    const queued = [1, 2, 3].map((x) => settle(y(s, x)));
    await sleep(20);
    const atRelease = settle(y(s, 4));
    s.release();
    const after = settle(y(s, 5));
    expect((await long).value).toEqual([256]);
    (await Promise.all(queued)).forEach((o, i) => rightOrTyped(o, [i + 1]));
    rightOrTyped(await atRelease, [4]);
    rightOrTyped(await after, [5]); // a run called after release: answered (loaded again, then released) or refused
    expect(await y(await t.load(good()), 6)).toEqual([6]);
  });

  it('release() while the model loads in a second thread (its home stuck in a long run)', async () => {
    const t = threads({ threads: 2 });
    const slow = await t.load(SLOW);
    const s = await t.load(good());
    const long = settle(y(slow, 256));
    await sleep(150); // home is stuck: s's runs go to a second thread, started and given the model
    const moved = [7, 8].map((x) => settle(y(s, x)));
    await sleep(5);
    s.release();
    (await Promise.all(moved)).forEach((o, i) => rightOrTyped(o, [i + 7]));
    expect(t.stats.started).toBe(2);
    rightOrTyped(await settle(y(s, 9)), [9]);
    expect((await long).value).toEqual([256]);
    const other = await t.load(good());
    expect(await Promise.all([y(other, 1), y(other, 2)])).toEqual([[1], [2]]);
  });

  it('release() while its thread is being recycled, runs of other models going on', async () => {
    const t = threads({ recycleBytes: 16 * MiB });
    const grow = await t.load(allocatingModel('x'));
    const s = await t.load(good());
    const keep = await t.load(good());
    const runs = [settle(y(grow, 8 * MiB)), ...[1, 2, 3].map((x) => settle(y(s, x))), settle(y(keep, 4))];
    for (let i = 0; i < 100 && t.stats.started < 2; i++) await sleep(5); // the replacement is loading the models
    s.release();
    const outs = await Promise.all(runs);
    rightOrTyped(outs[0]!, [8 * MiB]);
    [1, 2, 3].forEach((x, i) => rightOrTyped(outs[i + 1]!, [x]));
    expect(outs[4]!.value).toEqual([4]);
    for (let i = 0; i < 400 && (t.stats.recycled === 0 || live(t) > 1); i++) await sleep(10);
    expect(t.stats.recycled).toBe(1);
    expect(live(t)).toBe(1);
    expect(await y(keep, 5)).toEqual([5]);
  });

  it('close() with runs and loads running and queued: every call settles with an Error, and no thread starts after', async () => {
    const t = threads({ threads: 2 });
    const slow = await t.load(SLOW);
    const s = await t.load(good());
    let closed = false;
    // A call answered before close() (a load may pass the queued runs) is fine; one pending then fails.
    const pending = (p: Promise<unknown>) => settle(p.then((v) => (closed ? v : 'answered before close')));
    const calls = [y(slow, 512), ...[1, 2, 3].map((x) => y(s, x)), t.load(good()), t.load(SLOW), t.load(good())].map(pending);
    await sleep(30);
    t.close();
    closed = true;
    const started = t.stats.started;
    for (const o of await Promise.all(calls)) {
      if (o.value !== 'answered before close') expect(o.error, String(o.value)).toBeInstanceOf(ModelRuntimeError);
      expect(o.ms).toBeLessThan(2_000);
    }
    expect((await settle(y(s, 4))).error).toBeInstanceOf(ModelError);
    expect((await settle(t.load(good()))).error).toBeInstanceOf(ModelError);
    await settle(t.warm());
    await sleep(50);
    expect(t.stats.started).toBe(started);
  });

  it.each([1, 2])('a thread ended at its deadline with other models queued behind it (%i threads): they are answered, in time', async (n) => {
    const runMs = 600;
    const t = threads({ threads: n, runMs });
    const slow = await t.load(SLOW);
    const models = [await t.load(good()), await t.load(allocatingModel('x'))];
    const long = settle(y(slow, 512)); // ~2.5 s: ended at 600 ms
    await sleep(20);
    const runs = Array.from({ length: 12 }, (_, i) => settle(y(models[i % 2]!, i + 1)));
    const killed = await long;
    expect(killed.error).toBeInstanceOf(ModelRuntimeError);
    expect((killed.error as ModelRuntimeError).kind).toBe('time');
    for (const [i, o] of (await Promise.all(runs)).entries()) {
      expect(o.value).toEqual([i + 1]);
      expect(o.ms).toBeLessThan(runMs + 1_000 + 5_000); // a run's time, the wait grace, a thread start (loaded machine)
    }
    expect(t.stats.killed).toBe(1);
    expect(await y(slow, 0.5)).toEqual([0.5]);
  });

  it('garbage, empty and huge-but-valid models are typed ModelErrors; the same thread keeps serving', async () => {
    const t = threads({ maxHeapBytes: 64 * MiB });
    const s = await t.load(good());
    // 256 MiB of zeros materialised at load (onnxruntime folds the constant), past the 64 MiB cap.
    const bad = await Promise.all([new Uint8Array(0), GARBAGE, allocatingModel([64 * MiB]), new Uint8Array(5 * MiB)].map((b) => settle(t.load(b))));
    for (const o of bad) expect(o.error, String(o.value)).toBeInstanceOf(ModelError);
    expect(await Promise.all([y(s, 1), y(await t.load(good()), 2)])).toEqual([[1], [2]]);
    expect(t.stats).toMatchObject({ started: 1, killed: 0 });
  });

  it('many concurrent runs of several models on 2 threads around one long run: all right, none waits past the deadline', async () => {
    const runMs = 5_000;
    const t = threads({ threads: 2, runMs });
    const slow = await t.load(SLOW);
    const models = await Promise.all([good(), allocatingModel('x'), good()].map((b) => t.load(b)));
    const runs: Promise<Outcome>[] = [];
    const long = settle(y(slow, 256));
    for (let i = 0; i < 60; i++) {
      runs.push(settle(y(models[i % 3]!, i, i + 0.5)));
      if (i % 10 === 0) await sleep(30);
    }
    const outs = await Promise.all(runs);
    const done = await long;
    outs.forEach((o, i) => expect(o.value).toEqual([i, i + 0.5]));
    expect(done.value, String(done.error)).toEqual([256]);
    expect(Math.max(...outs.map((o) => o.ms))).toBeLessThan(runMs + 1_000);
    expect(t.stats.killed).toBe(0);
  });

  it('recycling under concurrent load: heap-growing runs among normal ones; then at most `threads` threads, answers right', async () => {
    const t = threads({ threads: 2, recycleBytes: 16 * MiB });
    const grow = await t.load(allocatingModel('x'));
    const models = await Promise.all([good(), good()].map((b) => t.load(b)));
    const runs: [Promise<Outcome>, number[]][] = [];
    for (let i = 0; i < 48; i++) {
      const xs = i % 6 === 0 ? [8 * MiB + i] : [i + 1];
      runs.push([settle(y(i % 6 === 0 ? grow : models[i % 2]!, ...xs)), xs]);
      if (i % 8 === 0) await sleep(15);
    }
    for (const [o, xs] of runs) expect((await o).value).toEqual(xs);
    for (let i = 0; i < 500 && (t.stats.recycled === 0 || live(t) > 2); i++) await sleep(10);
    expect(t.stats.recycled).toBeGreaterThan(0);
    expect(live(t)).toBeLessThanOrEqual(2);
    expect(await Promise.all([y(grow, 3), y(models[0]!, 4), y(models[1]!, 5)])).toEqual([[3], [4], [5]]);
  });

  it('a model loaded while its thread was being replaced does not keep the old thread, and its heap, alive under steady traffic', async () => {
    const t = threads({ recycleBytes: 16 * MiB });
    const grow = await t.load(allocatingModel('x'));
    const base = t.heapBytes();
    const big = y(grow, 32 * MiB); // 128 MiB of floats: the thread is replaced after this run
    await sleep(0);
    const late = await t.load(good()); // queued behind the big run, so loaded in the old thread
    expect(await big).toEqual([32 * MiB]);
    const from = performance.now();
    // One client's back-to-back runs: the old thread is never idle between them.
    for (let n = 1; t.heapBytes() > base + 16 * MiB && performance.now() - from < 4_000; n++) expect(await y(late, n)).toEqual([n]);
    expect(t.heapBytes()).toBeLessThanOrEqual(base + 16 * MiB);
    expect(t.stats).toMatchObject({ started: 2, recycled: 1 });
  });

  it('random sequences of loads, runs, hostile runs, releases: each call settles in time, right or typed; then a fresh model answers', async () => {
    interface Op {
      readonly op: 'run' | 'grow' | 'fail' | 'slow' | 'release' | 'load' | 'garbage' | 'pause';
      readonly model: number;
      readonly x: number;
    }
    const op: fc.Arbitrary<Op> = fc.record({
      op: fc.constantFrom('run', 'run', 'run', 'grow', 'fail', 'slow', 'release', 'load', 'garbage', 'pause'),
      model: fc.nat(7),
      x: fc.integer({ min: 1, max: 100 }),
    });
    const runMs = 700;
    const bound = 12_000;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 2), fc.constantFrom(8 * MiB, 64 * MiB), fc.array(op, { minLength: 4, maxLength: 16 }), async (n, recycleBytes, ops) => {
        const t = threads({ threads: n, runMs, recycleBytes, loadMs: 4_000 });
        try {
          const calls: Promise<void>[] = [];
          const check = (p: Promise<unknown>, expected: unknown) => calls.push(settle(p, bound).then((o) => rightOrTyped(o, expected)));
          // With its kind: 0 answers x, 1 allocates x floats (fails on x < 0), 2 is slow on large x.
          const sessions: [Promise<ModelSession>, number][] = [];
          const load = (bytes: Uint8Array, kind: number) => {
            const p = t.load(bytes);
            check(p.then(() => 'loaded'), 'loaded');
            sessions.push([p, kind]);
          };
          [good(), allocatingModel('x'), SLOW].forEach((b, kind) => load(b, kind));
          for (const { op, model, x } of ops) {
            const [session, kind] = sessions[model % sessions.length]!;
            const s = await session.catch(() => null);
            if (op === 'pause') await sleep(x);
            else if (op === 'load') load(x % 2 ? good() : allocatingModel('x'), x % 2 ? 0 : 1);
            else if (op === 'garbage') check(t.load(x % 2 ? GARBAGE : new Uint8Array(0)).then(() => 'loaded'), 'a ModelError');
            else if (!s) continue;
            else if (op === 'release') s.release();
            else if (op === 'run') check(y(s, x), [x]);
            else if (op === 'grow' && kind === 1) check(y(s, (x % 16) * MiB + 1), [(x % 16) * MiB + 1]);
            else if (op === 'fail' && kind === 1) check(y(s, -x), 'a graph error');
            else if (op === 'slow') check(y(s, kind === 2 ? 64 + 4 * x : x), [kind === 2 ? 64 + 4 * x : x]);
          }
          // Every call settles before the first failure is reported (none is left to reject unhandled).
          for (const r of await Promise.allSettled(calls)) if (r.status === 'rejected') throw r.reason;
          const fresh = await t.load(good());
          expect(await y(fresh, 42)).toEqual([42]);
        } finally {
          t.close();
        }
      }),
      { numRuns: 8, interruptAfterTimeLimit: 30_000 },
    );
  }, 90_000);
});
