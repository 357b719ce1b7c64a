/**
 * Warm throughput of the built node (query log ON, to /dev/null) against the bare Hono echo,
 * side by side: within each repetition, the echo and the node (micro-batching on, and off) run
 * one after the other at 1, 16 and 64 connections (and the node with models on its serving
 * thread, the way it ran before model threads: issue 15's cost, side by side), so a machine whose load drifts moves all of
 * them alike. CPU µs per request is the server process's CPU time over the requests it answered.
 */
import autocannon from 'autocannon';
import { demoRecords } from '../support/demo-records.js';
import { median, spread, type Proc } from './servers.js';

export const KEY = 'bench-key';
export const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(1000);
/** Records cycling through the real ones (penguins and cars have fewer than 1,000). */
export const batch = (endpoint: string, n = 1000) => Array.from({ length: n }, (_, i) => records[endpoint]![i % records[endpoint]!.length]!);
/** Penguin clusters score penguins. */
const input = (e: string) => (e === 'penguin-clusters' ? 'penguin-species' : e);
export const predictBody = (endpoint: string, gen: string) => JSON.stringify({ features: records[input(endpoint)]![7]!, dispatch: { forcedGeneration: gen } });
export const DEMO_MODELS: [string, string][] = [
  ['v1', 'penguin-species'], ['v1', 'flight-delayed'], ['v1', 'car-mpg'],
  ['v2', 'penguin-species'], ['v2', 'flight-delayed'], ['v2', 'car-mpg'], ['v2', 'penguin-clusters'],
];

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

export async function load(proc: Proc, path: string, body: string, connections: number, durationS: number): Promise<Load> {
  const c0 = proc.cpuUs();
  const r = await autocannon({ url: proc.url + path, method: 'POST', body, headers: auth, connections, duration: durationS });
  const c1 = proc.cpuUs();
  if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs: (c1 - c0) / r.requests.total };
}

export async function warm(proc: Proc): Promise<void> {
  for (const [gen, e] of DEMO_MODELS) {
    const res = await fetch(`${proc.url}/public/api/v1/demo/${e}/predict`, { method: 'POST', headers: auth, body: predictBody(e, gen) });
    if (res.status !== 200) throw new Error(`warm ${e} ${gen}: ${res.status} ${await res.text()}`);
  }
}

export interface Throughput {
  lines: string[];
  /** Node (batching on) req/s over the echo's, penguin-species v2, 16 connections: one per repetition. */
  ratios16: number[];
  cpuNode16: number[];
  cpuEcho16: number[];
}

/** penguin-species v2 (the issue's figure) at 1, 16 and 64 connections, `reps` times; then every demo model at 16. */
export async function throughput(nodes: { on: Proc; off: Proc; inproc: Proc }, echo: Proc, reps: number, durationS: number): Promise<Throughput> {
  const path = '/public/api/v1/demo/penguin-species/predict';
  const body = predictBody('penguin-species', 'v2');
  const runs = new Map<string, Load[]>();
  const add = (k: string, l: Load) => runs.set(k, [...(runs.get(k) ?? []), l]);
  for (let rep = 0; rep < reps; rep++) {
    for (const c of [1, 16, 64]) {
      add(`echo ${c}`, await load(echo, '/echo', body, c, durationS));
      add(`on ${c}`, await load(nodes.on, path, body, c, durationS));
      add(`off ${c}`, await load(nodes.off, path, body, c, durationS));
      add(`inproc ${c}`, await load(nodes.inproc, path, body, c, durationS));
    }
  }
  const lines = [
    `penguin-species v2 predict, ${reps} repetitions of ${durationS} s each, median (min-max) over the repetitions; share = node req/s / echo req/s of the same repetition.`,
    '',
    '| connections | server | req/s | p50 ms | p99 ms | CPU µs / request | share of echo |',
    '|---|---|---|---|---|---|---|',
  ];
  const ratios = (k: string, c: number) => runs.get(k)!.map((l, i) => l.rps / runs.get(`echo ${c}`)![i]!.rps);
  for (const c of [1, 16, 64]) {
    for (const [k, label] of [['echo', 'bare Hono echo'], ['on', 'node (defaults: micro-batching on, models in threads)'], ['off', 'node, micro-batching off'], ['inproc', 'node, models on the serving thread (APINODE_MODEL_THREADS=0)']] as const) {
      const ls = runs.get(`${k} ${c}`)!;
      const share = k === 'echo' ? '100%' : `${spread(ratios(`${k} ${c}`, c).map((r) => 100 * r))}%`;
      lines.push(`| ${c} | ${label} | ${spread(ls.map((l) => l.rps))} | ${median(ls.map((l) => l.p50))} | ${median(ls.map((l) => l.p99))} | ${spread(ls.map((l) => l.cpuUs))} | ${share} |`);
    }
  }
  lines.push('', `Every demo model, 16 connections, ${durationS} s each, after one more echo run:`, '', '| predict | req/s | CPU µs / request | share of echo |', '|---|---|---|---|');
  const ceiling = await load(echo, '/echo', body, 16, durationS);
  lines.push(`| bare Hono echo | ${ceiling.rps.toFixed(0)} | ${ceiling.cpuUs.toFixed(0)} | 100% |`);
  for (const [gen, e] of DEMO_MODELS) {
    const r = await load(nodes.on, `/public/api/v1/demo/${e}/predict`, predictBody(e, gen), 16, durationS);
    lines.push(`| ${e} ${gen} | ${r.rps.toFixed(0)} | ${r.cpuUs.toFixed(0)} | ${((100 * r.rps) / ceiling.rps).toFixed(0)}% |`);
  }
  return { lines, ratios16: ratios('on 16', 16), cpuNode16: runs.get('on 16')!.map((l) => l.cpuUs), cpuEcho16: runs.get('echo 16')!.map((l) => l.cpuUs) };
}

/** predict-multi of 1,000 records, 30 sequential calls per model: server-side time from the answer's timing, and the server's CPU per call. */
export async function predictMulti(node: Proc): Promise<{ lines: string[]; worstTimingMs: number; worstCpuMs: number }> {
  const lines = ['| predict-multi, 1,000 records | client ms (loopback) | server ms (sum of timing) | ORT run ms | server CPU ms / call (mean of 30) |', '|---|---|---|---|---|'];
  let worstTimingMs = 0;
  let worstCpuMs = 0;
  for (const [gen, e] of DEMO_MODELS) {
    const body = JSON.stringify({ items: batch(input(e)).map((features) => ({ features })), dispatch: { forcedGeneration: gen } });
    const client: number[] = [];
    const server: number[] = [];
    const ort: number[] = [];
    let c0 = 0;
    for (let i = 0; i < 33; i++) {
      if (i === 3) c0 = node.cpuUs(); // after 3 warm-up calls
      const t0 = performance.now();
      const res = await fetch(`${node.url}/public/api/v1/demo/${e}/predict-multi`, { method: 'POST', headers: auth, body });
      const json = (await res.json()) as { results: unknown[]; timing: Record<string, number> };
      const ms = performance.now() - t0;
      if (json.results?.length !== 1000) throw new Error(`${e} ${gen}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
      if (i < 3) continue;
      client.push(ms);
      server.push(Object.values(json.timing).reduce((a, b) => a + b, 0) / 1000);
      ort.push((json.timing.prediction ?? 0) / 1000);
    }
    const cpuMs = (node.cpuUs() - c0) / 1000 / 30;
    worstTimingMs = Math.max(worstTimingMs, median(server));
    worstCpuMs = Math.max(worstCpuMs, cpuMs);
    lines.push(`| ${e} ${gen} | ${spread(client, 1)} | ${spread(server, 2)} | ${median(ort).toFixed(2)} | ${cpuMs.toFixed(1)} |`);
  }
  lines.push('', 'Server CPU per call: the process\'s CPU time over the 30 calls (HTTP, JSON both ways, validation, encoding, the model run, decoding and the query log\'s 1,000 lines).');
  return { lines, worstTimingMs, worstCpuMs };
}
