/**
 * Memory returns (issue 15): a code thread whose WebAssembly memory grew past the threshold is
 * ended after its call, so the process's RSS comes back down; a thread kept alive holds its peak
 * (WebAssembly memory never shrinks). Figures in docs/isolation.md come from this test's output.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SandboxCall } from '../../src/code/sandbox-instance.js';
import { CodePool } from '../../src/runtime/code-pool.js';

const MiB = 1024 * 1024;
const rss = () => process.memoryUsage().rss / MiB;
const call = (source: string, memoryMiB = 16): SandboxCall => ({
  source,
  file: 'code/t.js',
  exportName: 'f',
  invocations: [[]],
  limits: { cpuTimeMs: 10_000, memoryMiB },
  host: { log: () => undefined, groups: {}, context: {} },
  wallMs: 20_000,
});
// About 300 MiB of live strings in the sandbox's heap.
const GROW = 'export function f() { const a = []; for (let i = 0; i < 300; i++) a.push("x".repeat(2 ** 20) + i); return a.length }';
const SMALL = 'export const f = () => 1';
const settle = () => new Promise((r) => setTimeout(r, 500));

async function peakThenRest(pool: CodePool) {
  await pool.run(call(SMALL));
  await settle();
  const warm = rss();
  await pool.run(call(GROW, 400));
  await pool.run(call(SMALL));
  await settle();
  return { warm, after: rss() };
}

describe('memory of code threads', () => {
  const recycling = new CodePool({ workers: 1, recycleMiB: 64 });
  const keeping = new CodePool({ workers: 1, recycleMiB: 4096 });
  afterAll(async () => {
    await recycling.close();
    await keeping.close();
  });

  it('returns to about the warm RSS once a grown thread is replaced, and stays up when it is not', async () => {
    const recycled = await peakThenRest(recycling);
    const kept = await peakThenRest(keeping);
    console.log(`RSS MiB: kept thread warm ${kept.warm.toFixed(0)} → after ${kept.after.toFixed(0)}; recycled thread warm ${recycled.warm.toFixed(0)} → after ${recycled.after.toFixed(0)}`);
    expect(recycling.stats.recycled).toBe(1);
    expect(keeping.stats.recycled).toBe(0);
    // The kept thread holds its ~300 MiB peak; the replaced one gave it back.
    expect(kept.after - kept.warm).toBeGreaterThan(200);
    expect(recycled.after - recycled.warm).toBeLessThan(80);
  }, 60_000);
});
