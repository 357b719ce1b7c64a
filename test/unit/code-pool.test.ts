import { afterAll, describe, expect, it } from 'vitest';
import type { HostApi } from '../../src/code/host-bridge.js';
import { LocalEngine } from '../../src/code/local-engine.js';
import type { SandboxCall } from '../../src/code/sandbox-instance.js';
import { CodePool } from '../../src/runtime/code-pool.js';

const pool = new CodePool({ workers: 2, recycleMiB: 64 });
afterAll(() => pool.close());

const lines: string[] = [];
const host = (groups: HostApi['groups'] = {}): HostApi => ({ log: (level, m) => void lines.push(`${level} ${m}`), groups, context: { requestId: 'r1' } });
const call = (source: string, over: Partial<SandboxCall> = {}): SandboxCall => ({
  source,
  file: 'code/t.js',
  exportName: 'f',
  invocations: [[]],
  limits: { cpuTimeMs: 500, memoryMiB: 16 },
  host: host(),
  wallMs: 5000,
  ...over,
});
const GETTER_LOOP = 'export function f() { throw { get message() { for (;;) {} } } }';

describe('the code pool (worker threads)', () => {
  it('runs a call in a thread, its host calls and console lines answered by the main thread', async () => {
    lines.length = 0;
    const groups = { client: { runFunction: async (id: unknown, args: unknown) => ({ response: `${String(id)}:${JSON.stringify(args)}` }) } };
    const src = 'export async function f(x) { console.log("in", x); const r = await apinode.client.runFunction("sum", { a: x }); return { r, x, ctx: apinode.context.requestId } }';
    const out = await pool.run(call(src, { invocations: [[2]], host: host(groups) }));
    expect(out.values).toEqual([{ r: { response: 'sum:{"a":2}' }, x: 2, ctx: 'r1' }]);
    expect(lines).toEqual(['log in 2']);
  });

  it('hands a host failure to user code with its status and errorType', async () => {
    const groups = { client: { sqlQuery: async () => Promise.reject(Object.assign(new Error('no such endpoint'), { name: 'ApiNodeError', status: 404, errorType: 'ENDPOINT_NOT_FOUND' })) } };
    const src = 'export async function f() { try { await apinode.client.sqlQuery("x") } catch (e) { return [e.name, e.message, e.status, e.errorType] } }';
    expect((await pool.run(call(src, { host: host(groups) }))).values).toEqual([['ApiNodeError', 'no such endpoint', 404, 'ENDPOINT_NOT_FOUND']]);
  });

  it('answers the node\'s typed errors from the thread', async () => {
    await expect(pool.run(call('export function f() { throw new TypeError("boom") }'))).rejects.toMatchObject({ status: 500, errorType: 'CODE_ERROR', message: 'TypeError: boom' });
    await expect(pool.run(call('export function f() { for (;;) {} }', { limits: { cpuTimeMs: 100, memoryMiB: 8 } }))).rejects.toMatchObject({ errorType: 'CODE_TIMEOUT' });
  });

  it('stops a thrown value whose getter loops, on the CPU meter, in a thread and in this thread', async () => {
    const local = new LocalEngine();
    for (const engine of [pool, local]) {
      const t0 = performance.now();
      await expect(engine.run(call(GETTER_LOOP, { limits: { cpuTimeMs: 200, memoryMiB: 8 } }))).rejects.toMatchObject({ status: 500, errorType: 'CODE_TIMEOUT' });
      expect(performance.now() - t0).toBeLessThan(3000);
    }
    // The same reading at import (module evaluation) and through a Proxy.
    await expect(local.inspect('throw { get message() { for (;;) {} } }', 'code/t.js', { cpuTimeMs: 200, memoryMiB: 8 })).rejects.toMatchObject({ errorType: 'CODE_TIMEOUT' });
    const proxy = 'export function f() { throw new Proxy({}, { get() { for (;;) {} }, ownKeys() { for (;;) {} } }) }';
    await expect(local.run(call(proxy, { limits: { cpuTimeMs: 200, memoryMiB: 8 } }))).rejects.toMatchObject({ errorType: 'CODE_TIMEOUT' });
  });

  it('ends a thread stuck past its deadline, answers CODE_DEADLINE_EXCEEDED, and the next call works', async () => {
    const before = pool.stats.killed;
    const t0 = performance.now();
    await expect(pool.run(call('export function f() { for (;;) {} }', { limits: { cpuTimeMs: 10_000, memoryMiB: 8 }, wallMs: 300 }))).rejects.toMatchObject({ status: 500, errorType: 'CODE_DEADLINE_EXCEEDED' });
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2000);
    expect(pool.stats.killed).toBe(before + 1);
    expect((await pool.run(call('export const f = () => 7'))).values).toEqual([7]);
  });

  it('stops a promise waiting on a host call that never answers at the deadline, without ending the thread', async () => {
    const before = pool.stats.killed;
    const groups = { client: { runFunction: () => new Promise<never>(() => undefined) } };
    const t0 = performance.now();
    await expect(pool.run(call('export async function f() { return await apinode.client.runFunction("x") }', { host: host(groups), wallMs: 200 }))).rejects.toMatchObject({ errorType: 'CODE_DEADLINE_EXCEEDED' });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(pool.stats.killed).toBe(before);
  });

  it('refuses an answer over the byte cap before copying it out of the sandbox', async () => {
    const big = 'export function f() { return "é".repeat(600000) }';
    // 600,000 × "é" is 1,200,002 bytes of UTF-8 JSON: over a 1,000,000 cap, under it in UTF-16 units.
    await expect(pool.run(call(big, { maxAnswerBytes: 1_000_000, limits: { cpuTimeMs: 2000, memoryMiB: 32 } }))).rejects.toMatchObject({ errorType: 'CODE_ANSWER_TOO_LARGE' });
    expect((await pool.run(call(big, { maxAnswerBytes: 1_300_000, limits: { cpuTimeMs: 2000, memoryMiB: 32 } }))).values[0]).toHaveLength(600000);
  });

  it('keeps state in one thread across calls', async () => {
    const kept = pool.keep();
    const src = 'let n = 0; export function f() { return ++n }';
    const values = [];
    for (let i = 0; i < 3; i++) values.push((await pool.run(call(src), kept)).values[0]);
    expect(values).toEqual([1, 2, 3]);
    pool.release(kept);
  });

  it('replaces a thread whose WebAssembly memory grew past the threshold', async () => {
    const before = pool.stats.recycled;
    const grow = 'export function f() { const a = []; for (let i = 0; i < 80; i++) a.push("x".repeat(2 ** 20) + i); return a.length }';
    expect((await pool.run(call(grow, { limits: { cpuTimeMs: 5000, memoryMiB: 128 } }))).values).toEqual([80]);
    expect(pool.stats.recycled).toBe(before + 1);
    expect((await pool.run(call('export const f = () => 1'))).values).toEqual([1]);
  });

  it('describes a module\'s exports from a thread', async () => {
    const shape = await pool.inspect('export function sum(a, b) { return a + b }\nexport const x = 1', 'code/t.js', { cpuTimeMs: 200, memoryMiB: 8 });
    expect(shape.exports).toEqual({ sum: 'function', x: 'value' });
  });
});

describe('what user code hands the host', () => {
  const local = new LocalEngine();
  it('cuts console lines in the sandbox and refuses oversized host-call arguments', async () => {
    lines.length = 0;
    const seen: unknown[] = [];
    const groups = { client: { runFunction: async (...args: unknown[]) => void seen.push(args) } };
    const src = 'export async function f() { console.log("y".repeat(5e6)); try { await apinode.client.runFunction("x", "z".repeat(9 * 2 ** 20)) } catch (e) { return e.message } }';
    const out = await local.run(call(src, { host: host(groups), limits: { cpuTimeMs: 2000, memoryMiB: 64 } }));
    expect(out.values[0]).toMatch(/more than 8388608/);
    expect(seen).toEqual([]);
    expect(lines).toEqual([`log ${'y'.repeat(2000)}…`]);
  });
});

describe('user code that replaces what the host reads with', () => {
  const local = new LocalEngine();
  const limits = { cpuTimeMs: 200, memoryMiB: 8 };
  it('is stopped on the meter when `then` or `Promise` loops, and answers normally when it only replaces JSON', async () => {
    for (const src of [
      'export function f() { Promise.prototype.then = function () { for (;;) {} }; return 1 }',
      'export function f() { globalThis.Promise = { resolve() { for (;;) {} } }; return 1 }',
    ]) {
      const t0 = performance.now();
      await expect(local.run(call(src, { limits, maxAnswerBytes: 1000 }))).rejects.toMatchObject({ status: 500, errorType: 'CODE_TIMEOUT' });
      expect(performance.now() - t0).toBeLessThan(3000);
    }
    const replaced = 'export function f() { JSON.stringify = () => ({ get length() { for (;;) {} } }); return [1, 2] }';
    expect((await local.run(call(replaced, { limits, maxAnswerBytes: 1000 }))).values).toEqual([[1, 2]]);
    const shape = await local.inspect('Object.keys = () => { for (;;) {} }; export const x = 1', 'code/t.js', limits);
    expect(shape.exports).toEqual({ x: 'value' });
  });

describe('one call per thread', () => {
  const SPIN = 'export function f() { for (;;) {} }';
  const QUICK = 'export function f(x) { return x + 1 }';

  it('runs a quick call on another thread while one spins, and a bystander survives a thread ended at a deadline', async () => {
    const p = new CodePool({ workers: 2, recycleMiB: 64 });
    try {
      await p.run(call(QUICK, { invocations: [[0]] })); // one thread warm
      const spin = p.run(call(SPIN, { limits: { cpuTimeMs: 2000, memoryMiB: 8 }, wallMs: 1000 })).catch((e: unknown) => e);
      const t0 = performance.now();
      expect((await p.run(call(QUICK, { invocations: [[1]] }))).values).toEqual([2]);
      // Did not wait for the spinning call (its deadline is 1 s, its CPU limit 2 s).
      expect(performance.now() - t0).toBeLessThan(900);
      expect(await spin).toMatchObject({ errorType: 'CODE_DEADLINE_EXCEEDED' });
      expect((await p.run(call(QUICK, { invocations: [[2]] }))).values).toEqual([3]);
    } finally {
      await p.close();
    }
  });

  it('queues a call when every thread is busy, starts it when one frees, and refuses it after its wall time', async () => {
    const p = new CodePool({ workers: 1, recycleMiB: 64 });
    try {
      const spin = p.run(call(SPIN, { limits: { cpuTimeMs: 300, memoryMiB: 8 } })).catch((e: unknown) => e);
      // Waits for the spinning call's thread (stopped at 300 ms of CPU), then runs.
      expect((await p.run(call(QUICK, { invocations: [[1]] }))).values).toEqual([2]);
      expect(await spin).toMatchObject({ errorType: 'CODE_TIMEOUT' });
      const long = p.run(call(SPIN, { limits: { cpuTimeMs: 3000, memoryMiB: 8 }, wallMs: 3000 })).catch((e: unknown) => e);
      await expect(p.run(call(QUICK, { invocations: [[1]], wallMs: 200 }))).rejects.toMatchObject({ status: 503, errorType: 'CODE_SANDBOX_UNAVAILABLE' });
      expect(await long).toMatchObject({ errorType: 'CODE_TIMEOUT' });
    } finally {
      await p.close();
    }
  }, 15_000);
});

});
