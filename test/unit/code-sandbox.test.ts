import { describe, expect, it, vi } from 'vitest';
import { CpuMeter } from '../../src/code/cpu-meter.js';
import { CodeSandbox, type HostApi } from '../../src/code/sandbox.js';
import { parseParameters } from '../../src/code/signature.js';
import { bindArguments, decodeQueryValue } from '../../src/code/arguments.js';

const sandbox = new CodeSandbox();
const limits = { cpuTimeMs: 200, memoryMiB: 8 };
const lines: string[] = [];
const host = (groups: HostApi['groups'] = {}): HostApi => ({ log: (level, m) => void lines.push(`${level} ${m}`), groups, context: { requestId: 'r1' } });
const run = (source: string, exportName: string, args: unknown[], groups?: HostApi['groups'], l = limits) =>
  sandbox.run({ source, file: 'code/t.js', exportName, invocations: [args], limits: l, host: host(groups) });

describe('the code sandbox', () => {
  it('calls an exported function with JSON arguments and returns its JSON result', async () => {
    const out = await run('export function sum(a, b) { return a + b }', 'sum', [30, 12]);
    expect(out.values).toEqual([42]);
    expect(out.cpuUs).toBeGreaterThanOrEqual(0);
  });

  it('awaits async functions and async host calls', async () => {
    const groups = { client: { runFunction: async (id: unknown, args: unknown) => ({ response: `${String(id)}:${JSON.stringify(args)}` }) } };
    const src = 'export async function go(x) { const r = await apinode.getSelfClient().runFunction("sum", {a: x}); return {r, x} }';
    expect((await run(src, 'go', [1], groups)).values).toEqual([{ r: { response: 'sum:{"a":1}' }, x: 1 }]);
  });

  it('rejects into user code when a host call fails, with the status and errorType', async () => {
    const groups = { client: { sqlQuery: async () => Promise.reject(Object.assign(new Error('no such endpoint'), { status: 404, errorType: 'ENDPOINT_NOT_FOUND' })) } };
    const src = 'export async function go() { try { await apinode.client.sqlQuery("x") } catch (e) { return [e.message, e.status, e.errorType] } }';
    expect((await run(src, 'go', [], groups)).values).toEqual([['no such endpoint', 404, 'ENDPOINT_NOT_FOUND']]);
  });

  it('lets left-out arguments take their defaults', async () => {
    expect((await run('export function f(a, b = 5) { return [a, b] }', 'f', [1, undefined])).values).toEqual([[1, 5]]);
  });

  it('sends console output to the host log', async () => {
    lines.length = 0;
    await run('export function f() { console.log("hello", {a: 1}); console.error("bad") }', 'f', []);
    expect(lines).toEqual(['log hello {"a":1}', 'error bad']);
  });

  it('turns a user exception into CODE_ERROR with the user message only', async () => {
    await expect(run('export function f() { throw new TypeError("boom") }', 'f', [])).rejects.toMatchObject({ status: 500, errorType: 'CODE_ERROR', message: 'TypeError: boom' });
  });

  it('stops an infinite loop at the CPU limit, even one that catches the interruption', async () => {
    await expect(run('export function f() { for (;;) { try { for (;;) {} } catch {} } }', 'f', [])).rejects.toMatchObject({ errorType: 'CODE_TIMEOUT' });
    await expect(run('export async function f() { await null; for (;;) {} }', 'f', [])).rejects.toMatchObject({ errorType: 'CODE_TIMEOUT' });
  });

  it('stops a memory hog at the memory limit, and the next call works', async () => {
    const hog = 'export function f() { const h = []; let a = [1, 2, 3, 4]; for (;;) { h.push(a); a = a.concat(a) } }';
    await expect(run(hog, 'f', [], {}, { cpuTimeMs: 10_000, memoryMiB: 8 })).rejects.toMatchObject({ errorType: 'CODE_MEMORY_LIMIT' });
    expect((await run('export const f = () => 1', 'f', [])).values).toEqual([1]);
  });

  it('catches deep recursion inside the sandbox', async () => {
    await expect(run('export function f() { return f() }', 'f', [])).rejects.toMatchObject({ errorType: 'CODE_ERROR', message: expect.stringMatching(/stack overflow/) });
  });

  it('refuses a promise that can never settle', async () => {
    await expect(run('export function f() { return new Promise(() => {}) }', 'f', [])).rejects.toMatchObject({ errorType: 'CODE_ERROR', message: expect.stringMatching(/never settles/) });
  });

  it('gives user code no way out: no fetch, process, require, eval of the host, or host doors', async () => {
    const src = `export function f() { return [typeof fetch, typeof process, typeof require, typeof setTimeout, typeof __call, typeof __log, typeof WebAssembly, typeof XMLHttpRequest] }`;
    expect((await run(src, 'f', [])).values).toEqual([['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']]);
  });

  it('starts every call in a fresh runtime unless state is kept', async () => {
    const src = 'let n = 0; export function f() { return ++n }';
    expect((await run(src, 'f', [])).values).toEqual([1]);
    expect((await run(src, 'f', [])).values).toEqual([1]);
    const kept = sandbox.keep();
    const call = { source: src, file: 'code/t.js', exportName: 'f', invocations: [[]], limits, host: host() };
    expect((await sandbox.run(call, kept)).values).toEqual([1]);
    expect((await sandbox.run(call, kept)).values).toEqual([2]);
  });

  it('describes a module\'s exports and their source', async () => {
    const shape = await sandbox.inspect('export function sum(a, b) { return a + b }\nexport const x = 1', 'code/t.js', limits);
    expect(shape.exports).toEqual({ sum: 'function', x: 'value' });
    expect(parseParameters(shape.sources['sum']!)).toEqual([{ name: 'a', optional: false }, { name: 'b', optional: false }]);
  });
});

describe('argument binding', () => {
  it('reads parameter names from function signatures', () => {
    expect(parseParameters('function f(a, b = g(1, 2), c) {}')).toEqual([{ name: 'a', optional: false }, { name: 'b', optional: true }, { name: 'c', optional: false }]);
    expect(parseParameters('async (x, /* y */ z = "a,b") => x')).toEqual([{ name: 'x', optional: false }, { name: 'z', optional: true }]);
    expect(parseParameters('x => x')).toEqual([{ name: 'x', optional: false }]);
    expect(parseParameters('function f({a}, b) {}')).toBeNull();
    expect(parseParameters('function f(...rest) {}')).toBeNull();
  });

  it('binds by name and names the unknown or missing argument', () => {
    const params = [{ name: 'a', optional: false }, { name: 'b', optional: true }];
    expect(bindArguments('f', params, { b: 2, a: 1 })).toEqual([1, 2]);
    expect(() => bindArguments('f', params, { a: 1, c: 3 })).toThrow(/Unknown argument "c"/);
    expect(() => bindArguments('f', params, { b: 1 })).toThrow(/Missing argument "a"/);
  });

  it('decodes GET values that are JSON, keeps other text', () => {
    expect(['30', '-1.5', 'true', 'null', '[1]', 'abc', '012', 'Biscoe'].map(decodeQueryValue)).toEqual([30, -1.5, true, null, [1], 'abc', '012', 'Biscoe']);
  });
});

describe('the CPU meter', () => {
  it('counts only time spent inside the sandbox', () => {
    const now = vi.spyOn(performance, 'now');
    const m = new CpuMeter(100);
    now.mockReturnValue(0);
    m.enter();
    now.mockReturnValue(60);
    m.leave();
    now.mockReturnValue(10_000); // a long wait on the host: not the code's CPU
    m.enter();
    now.mockReturnValue(10_030);
    expect(m.check()).toBe(false);
    now.mockReturnValue(10_050);
    expect(m.check()).toBe(true);
    expect(m.interrupted).toBe(true);
    now.mockRestore();
  });

  it('falls back to counting polls where the clock stands still while code runs (Workers)', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(5);
    const m = new CpuMeter(100);
    m.enter();
    const polls = Array.from({ length: 30 }, () => m.check());
    expect(polls.indexOf(true)).toBe(25); // 100 ms at ~4 ms a poll
    now.mockRestore();
  });
});
