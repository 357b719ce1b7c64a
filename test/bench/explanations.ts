/**
 * npx tsx test/bench/explanations.ts: warm latency of predict on flight-delayed (both
 * generations) without explanations, with SHAPLEY (100 steps) and with ICE, measured
 * server-side (the sum of the answer's `timing`) and by a client on loopback, plus
 * predict-multi of 100 records explained. docs/benchmarks.md ("Explanations") holds the figures.
 */
import { cpus, tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { demoRecords } from '../support/demo-records.js';
import { spawnServer } from './servers.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 300);
const KEY = 'bench-key';
const records = demoRecords(100)['flight-delayed']!;
const auth = { Authorization: `Bearer ${KEY}` };

const VARIANTS: [string, unknown][] = [
  ['plain predict', null],
  ['SHAPLEY, 100 steps', { enabled: true, method: 'SHAPLEY', nExplanations: 3, nMonteCarloSteps: 100 }],
  ['SHAPLEY, 1000 steps', { enabled: true, method: 'SHAPLEY', nExplanations: 3, nMonteCarloSteps: 1000 }],
  ['ICE', { enabled: true, method: 'ICE', nExplanations: 3 }],
];

interface Sample {
  server: number;
  ort: number;
  client: number;
}

async function measure(url: string, body: (i: number) => unknown, runs: number, warmup = 20): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = -warmup; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(body(i + warmup)) });
    const json = (await res.json()) as { timing: Record<string, number> };
    const client = performance.now() - t0;
    if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
    if (i >= 0) out.push({ server: Object.values(json.timing).reduce((a, b) => a + b, 0) / 1000, ort: (json.timing.prediction ?? 0) / 1000, client });
  }
  return out;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;
const fmt = (x: number) => x.toFixed(2);

const dir = await mkdtemp(join(tmpdir(), 'apinode-bench-explain-'));
const node = await spawnServer('src/runtime/node.ts', { PORT: '0', APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'off' }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
const lines: string[] = [];
try {
  const base = `${node.url}/public/api/v1/demo/flight-delayed`;
  // Warm both models and every code path (JIT) before measuring anything.
  for (const gen of ['v1', 'v2'])
    for (const [, explanations] of VARIANTS) await measure(`${base}/predict`, (i) => ({ features: records[i % records.length], explanations, dispatch: { forcedGeneration: gen } }), 0, 100);
  lines.push(
    `| flight-delayed, predict (${RUNS} sequential requests, records cycling) | server median ms | server p90 ms | ORT median ms | client median ms | server vs plain |`,
    '|---|---|---|---|---|---|',
  );
  for (const gen of ['v1', 'v2']) {
    let plain = 0;
    for (const [name, explanations] of VARIANTS) {
      const s = await measure(`${base}/predict`, (i) => ({ features: records[i % records.length], explanations, dispatch: { forcedGeneration: gen } }), RUNS);
      const server = quantile(s.map((x) => x.server), 0.5);
      if (!explanations) plain = server;
      lines.push(
        `| ${gen} ${name} | ${fmt(server)} | ${fmt(quantile(s.map((x) => x.server), 0.9))} | ${fmt(quantile(s.map((x) => x.ort), 0.5))} | ${fmt(quantile(s.map((x) => x.client), 0.5))} | ${(server / plain).toFixed(1)}x |`,
      );
    }
  }
  lines.push('', '| flight-delayed, predict-multi of 100 records | server median ms | ORT median ms | client median ms |', '|---|---|---|---|');
  for (const gen of ['v1', 'v2']) {
    for (const [name, explanations] of VARIANTS.slice(0, 2)) {
      const s = await measure(`${base}/predict-multi`, () => ({ items: records.map((features) => ({ features })), explanations, dispatch: { forcedGeneration: gen } }), 30);
      lines.push(`| ${gen} ${name} | ${fmt(quantile(s.map((x) => x.server), 0.5))} | ${fmt(quantile(s.map((x) => x.ort), 0.5))} | ${fmt(quantile(s.map((x) => x.client), 0.5))} |`);
    }
  }
} finally {
  node.stop();
}
console.log(`\n## Explanations (${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})\n`);
console.log(lines.join('\n'));
