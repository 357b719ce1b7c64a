/**
 * npm run bench: throughput and latency of the node on Node against a bare Hono echo (the
 * ceiling), predict-multi of 1,000 records, and onnxruntime-web against onnxruntime-node.
 * Prints a markdown report; docs/benchmarks.md holds the figures of the last run.
 */
import autocannon from 'autocannon';
import { cpus } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoRecords } from '../support/demo-records.js';
import { compareRuntimes } from './ort-compare.js';
import { spawnServer } from './servers.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = 16;
const KEY = 'bench-key';
const records = demoRecords(1000);
/** Exactly n records, cycling through the real ones (penguins and cars have fewer than 1,000). */
const batch = (endpoint: string, n = 1000) => Array.from({ length: n }, (_, i) => records[endpoint]![i % records[endpoint]!.length]!);

async function load(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, method: 'POST', body: JSON.stringify(body), headers, connections: CONNECTIONS, duration: DURATION_S });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const dir = await mkdtemp(join(tmpdir(), 'apinode-bench-'));
const spawnedAt = performance.now();
const node = await spawnServer('src/runtime/node.ts', { PORT: '0', APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'off' }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
const echo = await spawnServer('test/bench/echo-server.ts', { PORT: '0' }, /listening (\d+)/);
const auth = { Authorization: `Bearer ${KEY}` };
const lines: string[] = [];
try {
  const predictBody = (endpoint: string, gen: string) => ({ features: records[endpoint]![7]!, dispatch: { forcedGeneration: gen } });
  const listening = performance.now() - spawnedAt;
  const t0 = performance.now();
  const first = await fetch(`${node.url}/public/api/v1/demo/car-mpg/predict`, { method: 'POST', headers: auth, body: JSON.stringify(predictBody('car-mpg', 'v1')) });
  if (!first.ok) throw new Error(`first predict: ${first.status}`);
  const firstMs = performance.now() - t0;
  lines.push(`Cold start (Node, tsx): process spawn to listening ${listening.toFixed(0)} ms (includes seeding the demo); first predict on a cold generation ${firstMs.toFixed(0)} ms (ORT WASM init + model load); see the warm figures below.`, '');
  // Warm every model before measuring.
  for (const gen of ['v1', 'v2'])
    for (const e of ['penguin-species', 'flight-delayed', 'car-mpg'])
      await fetch(`${node.url}/public/api/v1/demo/${e}/predict`, { method: 'POST', headers: auth, body: JSON.stringify(predictBody(e, gen)) });

  const ceiling = await load(`${echo.url}/echo`, predictBody('penguin-species', 'v1'));
  lines.push('| run | req/s | p50 ms | p99 ms | share of echo ceiling |', '|---|---|---|---|---|');
  lines.push(`| Hono JSON echo (ceiling) | ${ceiling.rps.toFixed(0)} | ${ceiling.p50} | ${ceiling.p99} | 100% |`);
  for (const gen of ['v1', 'v2']) {
    for (const e of ['penguin-species', 'flight-delayed', 'car-mpg']) {
      const r = await load(`${node.url}/public/api/v1/demo/${e}/predict`, predictBody(e, gen), auth);
      lines.push(`| predict ${e} ${gen} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${((100 * r.rps) / ceiling.rps).toFixed(0)}% |`);
    }
  }

  lines.push('', '| predict-multi, 1,000 records | median ms (client, loopback) | median ms (server: sum of timing) | median ms (ORT run) |', '|---|---|---|---|');
  for (const gen of ['v1', 'v2']) {
    for (const e of ['penguin-species', 'flight-delayed', 'car-mpg']) {
      const body = JSON.stringify({ items: batch(e).map((features) => ({ features })), dispatch: { forcedGeneration: gen } });
      const client: number[] = [];
      const server: number[] = [];
      const ort: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t0 = performance.now();
        const res = await fetch(`${node.url}/public/api/v1/demo/${e}/predict-multi`, { method: 'POST', headers: auth, body });
        const json = (await res.json()) as { results: unknown[]; timing: Record<string, number> };
        client.push(performance.now() - t0);
        if (json.results.length !== 1000) throw new Error('short answer');
        server.push(Object.values(json.timing).reduce((a, b) => a + b, 0) / 1000);
        ort.push((json.timing.prediction ?? 0) / 1000);
      }
      lines.push(`| ${e} ${gen} | ${median(client).toFixed(2)} | ${median(server).toFixed(2)} | ${median(ort).toFixed(2)} |`);
    }
  }
} finally {
  node.stop();
  echo.stop();
}

lines.push('', ...(await compareRuntimes()));
console.log(`\n## Results (${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${DURATION_S}s per load run, ${CONNECTIONS} connections)\n`);
console.log(lines.join('\n'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
