/**
 * Resident memory of the built node (query log on, to /dev/null): right after start, with every
 * demo model of v1 and v2 loaded, once SQL (PGlite) and a code endpoint (QuickJS) have been used,
 * and over 60 s of load on every model (is it flat?).
 */
import autocannon from 'autocannon';
import { DEMO_MODELS, auth, predictBody, warm } from './throughput.js';
import { median, type Proc } from './servers.js';

export interface Memory {
  lines: string[];
  loadedMiB: number;
  /** Median RSS of the last third of the load's samples over the first third's. */
  growth: number;
}

const post = async (proc: Proc, path: string, body: unknown) => {
  const res = await fetch(proc.url + path, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
};

export async function memory(proc: Proc, loadS: number): Promise<Memory> {
  await new Promise((r) => setTimeout(r, 500)); // ORT's start-up probe settles
  const idle = proc.rssMiB();
  await warm(proc);
  const loaded = proc.rssMiB();
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(proc.rssMiB()), 2500);
  // 60 s (by default) cycling through every demo model, 16 connections.
  const each = Math.max(1, Math.round(loadS / DEMO_MODELS.length));
  const before = proc.rssMiB();
  for (const [gen, e] of DEMO_MODELS) {
    await autocannon({ url: `${proc.url}/public/api/v1/demo/${e}/predict`, method: 'POST', body: predictBody(e, gen), headers: auth, connections: 16, duration: each });
  }
  clearInterval(timer);
  const after = proc.rssMiB();
  await post(proc, '/public/api/v1/demo/cars-by-origin/query', { origin: 'USA' });
  const withSql = proc.rssMiB();
  await post(proc, '/public/api/v1/demo/sum/run', { a: 1, b: 2 });
  const withCode = proc.rssMiB();
  const lines = [
    '| node process (dist/node/node.mjs) | RSS MiB |',
    '|---|---|',
    `| started, idle (ORT started, no model) | ${idle.toFixed(0)} |`,
    `| all ${DEMO_MODELS.length} demo models of v1 and v2 loaded | ${loaded.toFixed(0)} |`,
    `| after ${each * DEMO_MODELS.length} s of load (16 connections, every model in turn); samples every 2.5 s: ${samples.map((s) => s.toFixed(0)).join(', ')} | ${after.toFixed(0)} |`,
    `| then one SQL query (starts the embedded Postgres, PGlite) | ${withSql.toFixed(0)} |`,
    `| then one FUNCTION call (starts the code sandbox, QuickJS) | ${withCode.toFixed(0)} |`,
  ];
  // Flat: the median of the last third of the samples against the first third's (the heap's
  // first growth to its working size comes before; medians, as RSS saws up and down with GC).
  const third = Math.max(1, Math.floor(samples.length / 3));
  const growth = median(samples.slice(-third)) / median(samples.slice(0, third));
  lines.push('', `Flatness: median of the last ${third} samples over the first ${third}'s: ${(100 * (growth - 1)).toFixed(1)}%; end of load over just after loading: ${(100 * (after / before - 1)).toFixed(0)}%.`);
  return { lines, loadedMiB: loaded, growth };
}
