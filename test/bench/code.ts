/**
 * npx tsx test/bench/code.ts (npm run bench:code): what code endpoints cost.
 *  - sandbox start: instantiating QuickJS's WebAssembly (once per instance), and a fresh
 *    QuickJS runtime + the module evaluated (every call of an endpoint without kept state);
 *  - per-call overhead of a trivial FUNCTION (`sum`) against a direct predict (`car-mpg`), and
 *    of the dispatcher against the predict it wraps, on the in-process app (no sockets).
 * docs/code-endpoints.md ("Performance") holds the figures.
 */
import { cpus } from 'node:os';
import { CodeSandbox } from '../../src/code/sandbox.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 500);
const KEY = 'bench-key';
const auth = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
const PENGUIN = { island: 'Biscoe', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' };
const CAR = { cylinders: 4, displacement: 120, horsepower: 90, weight_lbs: 2500, acceleration: 15, origin: 'Japan' };

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const fmt = (ms: number) => ms.toFixed(3);

async function startCost(): Promise<void> {
  const t0 = performance.now();
  const sandbox = new CodeSandbox();
  await sandbox.start();
  const wasmMs = performance.now() - t0;
  const host = { log: () => undefined, groups: {}, context: {} };
  const call = { source: 'export function sum(a, b) { return a + b }', file: 'code/sum.js', exportName: 'sum', invocations: [[30, 12]], limits: { cpuTimeMs: 1000, memoryMiB: 32 }, host };
  const starts: number[] = [];
  const totals: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await sandbox.run(call);
    totals.push(performance.now() - t);
    starts.push(r.startUs / 1000);
  }
  const kept = sandbox.keep();
  const keptTotals: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await sandbox.run(call, kept);
    keptTotals.push(performance.now() - t);
  }
  console.log(`QuickJS WebAssembly instantiation (once per instance): ${wasmMs.toFixed(1)} ms`);
  console.log(`fresh runtime + module evaluation, per call: p50 ${fmt(q(starts.slice(10), 0.5))} ms, p99 ${fmt(q(starts.slice(10), 0.99))} ms (first call ${fmt(starts[0]!)} ms)`);
  console.log(`whole sandbox call of sum(30, 12), fresh: p50 ${fmt(q(totals.slice(10), 0.5))} ms; kept state: p50 ${fmt(q(keptTotals.slice(10), 0.5))} ms`);
}

async function overhead(): Promise<void> {
  const { store } = await tempStore();
  await seedDemo(store, KEY);
  const { app } = testApp(store, { APINODE_QUERY_LOG: 'off' });
  const cases: [string, string, unknown][] = [
    ['predict car-mpg (direct)', 'car-mpg/predict', { features: CAR }],
    ['run sum (trivial FUNCTION)', 'sum/run', { a: 30, b: 12 }],
    ['predict penguin-species (direct)', 'penguin-species/predict', { features: PENGUIN }],
    ['run penguin-dispatcher (self-client -> penguin-species)', 'penguin-dispatcher/run', { penguin: PENGUIN }],
    ['predict penguin-species-by-island (CUSTOM_PREDICTION)', 'penguin-species-by-island/predict', { features: PENGUIN }],
  ];
  const rows: string[] = [];
  for (const [label, path, body] of cases) {
    const once = async () => {
      const t = performance.now();
      const res = await app.request(`/public/api/v1/demo/${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return performance.now() - t;
    };
    for (let i = 0; i < 50; i++) await once(); // warm: models loaded, JIT warm
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) ms.push(await once());
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    rows.push(`| ${label} | ${fmt(q(ms, 0.5))} | ${fmt(q(ms, 0.99))} | ${fmt(mean)} |`);
  }
  console.log(`\nin-process latency (app.request), ${RUNS} sequential calls each, ms:`);
  console.log('| call | p50 | p99 | mean |\n|---|---|---|---|');
  for (const r of rows) console.log(r);
}

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
await startCost();
await overhead();
