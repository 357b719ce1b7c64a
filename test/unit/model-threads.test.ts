/**
 * Models served from worker threads (src/runtime/model-threads.ts), on real onnxruntime-web in
 * real threads: answers cross intact, failures stay typed, a run past its time ends its thread
 * (and nobody else's run), a run that grew the heap gets its thread replaced, the heap cap holds.
 * The hostile models answer their input x by construction (test/support/hostile-models.ts), so
 * every expected value here is computed independently of the node.
 */
import { describe, expect, it } from 'vitest';
import { ModelRuntimeError } from '../../src/inference/model-runtime.js';
import { feeds, MiB, threads, y } from '../support/model-threads.js';
import { allocatingModel, slowRunModel } from '../support/hostile-models.js';

const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe('model threads', () => {
  it('load metadata and run answers cross the thread intact, batches and concurrent runs included', async () => {
    const t = threads();
    const s = await t.load(allocatingModel([4]));
    expect(s.inputs).toEqual([{ name: 'x', isTensor: true, type: 'float32', dims: [null, 1] }]);
    expect(s.outputs.map((o) => o.name)).toEqual(['y']);
    const xs = Array.from({ length: 1000 }, (_, i) => i * 0.5 - 100);
    expect(await y(s, ...xs)).toEqual(xs);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => y(s, i + 1, -i - 1)));
    answers.forEach((a, i) => expect(a).toEqual([i + 1, -i - 1]));
  });

  it('a failed run is a typed ModelRuntimeError (graph, resources past the heap cap), and the model serves the next run', async () => {
    const t = threads({ maxHeapBytes: 128 * MiB });
    const s = await t.load(allocatingModel('x'));
    const bad = await failure(y(s, -5));
    expect(bad).toBeInstanceOf(ModelRuntimeError);
    expect((bad as ModelRuntimeError).kind).toBe('graph');
    expect(await y(s, 2)).toEqual([2]);
    // 64 Mi floats, 256 MiB: past the 128 MiB cap, where the uncapped heap would have grown to take it.
    const big = await failure(y(s, 64 * MiB));
    expect((big as ModelRuntimeError).kind).toBe('resources');
    expect(t.heapBytes()).toBeLessThanOrEqual(128 * MiB);
    expect(await y(s, 3)).toEqual([3]);
    expect(t.stats.killed).toBe(0);
  });

  it('a run past its time ends its thread from outside; the runs queued behind it are served by a new thread', async () => {
    const t = threads({ runMs: 400 });
    const slow = await t.load(slowRunModel(400));
    expect(t.stats.started).toBe(1);
    const good = await t.load(allocatingModel([4]));
    const from = performance.now();
    const stuck = failure(slow.run(feeds(512), ['y']));
    const queued = y(good, 7); // same thread, behind the slow run
    const e = await stuck;
    expect(e).toBeInstanceOf(ModelRuntimeError);
    expect((e as ModelRuntimeError).kind).toBe('time');
    expect((e as Error).message).toMatch(/400 ms.*APINODE_MODEL_RUN_MAX_MS/);
    expect(await queued).toEqual([7]);
    expect(performance.now() - from).toBeLessThan(5_000);
    expect(t.stats).toMatchObject({ killed: 1, started: 2 });
    expect(await y(good, 8)).toEqual([8]);
  });

  it('a thread whose runs grew its heap past the threshold is replaced, its models moved, its memory returned', async () => {
    const t = threads({ recycleBytes: 64 * MiB });
    const s = await t.load(allocatingModel('x'));
    const base = t.heapBytes();
    expect(await y(s, 32 * MiB)).toEqual([32 * MiB]); // 128 MiB of floats
    expect(t.heapBytes()).toBeGreaterThan(base + 100 * MiB);
    // Runs keep being answered while the new thread loads the model, and after the switch.
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => y(s, i)));
    during.forEach((a, i) => expect(a).toEqual([i]));
    for (let i = 0; i < 200 && t.stats.recycled === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.stats.recycled).toBe(1);
    for (let i = 0; i < 200 && t.heapBytes() > base + 16 * MiB; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.heapBytes()).toBeLessThanOrEqual(base + 16 * MiB);
    expect(await y(s, 5)).toEqual([5]);
    // Loads do not count: a fresh thread holding the model is not recycled again.
    expect(t.stats.recycled).toBe(1);
  });

  it('with two threads, the runs waiting behind a long run go to the second thread, started then', async () => {
    const t = threads({ threads: 2, runMs: 20_000 });
    const slow = await t.load(slowRunModel(300));
    const good = await t.load(allocatingModel([4]));
    let slowDone = false;
    const running = slow.run(feeds(512), ['y']).then((r) => ((slowDone = true), r));
    await new Promise((r) => setTimeout(r, 30));
    expect(await y(good, 9)).toEqual([9]);
    // The other model answered while the slow run was still going (in the second thread, started
    // and given the model once the first had been busy for 100 ms).
    expect(slowDone).toBe(false);
    expect(t.stats.started).toBe(2);
    expect([...((await running).y!.data as Float32Array)]).toEqual([512]);
  });
});
