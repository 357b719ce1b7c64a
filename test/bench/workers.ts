/**
 * npm run bench:worker (NODE_OPTIONS=--experimental-websocket npx tsx test/bench/workers.ts):
 * the node on Workers, measured in workerd (Miniflare) on the bundle `wrangler deploy --dry-run`
 * builds. Prints a markdown report for docs/benchmarks.md: bundle sizes, cold start (fresh
 * workerd to first prediction), warm latency over loopback, and memory with every demo
 * generation loaded: the isolate's V8 heap and buffers (what the 128 MB limit counts, read
 * through the inspector) and the workerd process's RSS.
 */
import autocannon from 'autocannon';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Miniflare } from 'miniflare';
import { demoRecords } from '../support/demo-records.js';
import { buildWorker, startWorkerd, type Workerd } from '../workers/workerd.js';

const KEY = 'bench-key';
const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(1000);
const ENDPOINTS = { v1: ['penguin-species', 'flight-delayed', 'car-mpg'], v2: ['penguin-species', 'flight-delayed', 'car-mpg', 'penguin-clusters'] };
const input = (e: string) => (e === 'penguin-clusters' ? 'penguin-species' : e);
const predictBody = (e: string, gen: string) => JSON.stringify({ features: records[input(e)]![7]!, dispatch: { forcedGeneration: gen } });
const MiB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const lines: string[] = [];

async function predict(w: Workerd, e: string, gen: string): Promise<void> {
  const res = await w.fetch(`/public/api/v1/demo/${e}/predict`, { method: 'POST', headers: auth, body: predictBody(e, gen) });
  if (res.status !== 200) throw new Error(`${e} ${gen}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

/**
 * The isolate's memory, read over the V8 inspector: the JS heap (Runtime.getHeapUsage) and the
 * WebAssembly memories (ORT's heap; getHeapUsage leaves them out), found with queryObjects.
 */
async function isolateMiB(w: Workerd): Promise<{ js: number; wasm: number }> {
  const ws = new WebSocket(`${(await w.mf.getInspectorURL()).href}core:user:apinode`);
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
  let id = 0;
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const mine = ++id;
      ws.addEventListener('message', function on(m) {
        const d = JSON.parse(String(m.data)) as { id?: number; result?: T; error?: unknown };
        if (d.id !== mine) return;
        ws.removeEventListener('message', on);
        if (d.error) reject(new Error(JSON.stringify(d.error)));
        else resolve(d.result as T);
      });
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  const context = new Promise<number>((resolve) =>
    ws.addEventListener('message', (m) => {
      const d = JSON.parse(String(m.data)) as { method?: string; params?: { context: { id: number } } };
      if (d.method === 'Runtime.executionContextCreated') resolve(d.params!.context.id);
    }),
  );
  await call('Runtime.enable');
  const contextId = await context;
  const usage = await call<{ usedSize: number }>('Runtime.getHeapUsage');
  const proto = await call<{ result: { objectId: string } }>('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype', contextId });
  const mems = await call<{ objects: { objectId: string } }>('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId });
  const sum = await call<{ result: { value: number } }>('Runtime.callFunctionOn', {
    objectId: mems.objects.objectId,
    functionDeclaration: 'function () { return this.reduce((s, m) => s + m.buffer.byteLength, 0); }',
    returnByValue: true,
  });
  ws.close();
  return { js: usage.usedSize / MiB, wasm: sum.result.value / MiB };
}

/** Resident memory (MiB) of the workerd processes this process started. */
function workerdRssMiB(): number {
  const out = execFileSync('ps', ['-o', 'rss=,cmd=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('workerd')).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]) / 1024, 0);
}

// 1. The deployable bundle.
const bundle = await buildWorker();
const files = await readdir(bundle.dir);
lines.push('| file | bytes | gzip -9 bytes |', '|---|---|---|');
let raw = 0;
let gz = 0;
for (const f of files.filter((f) => !f.endsWith('.map') && f !== 'README.md')) {
  const body = await readFile(join(bundle.dir, f));
  const z = gzipSync(body, { level: 9 }).byteLength;
  raw += body.byteLength;
  gz += z;
  lines.push(`| ${f.replace(/^[0-9a-f]{40}-/, '<sha1>-')} | ${body.byteLength} | ${z} |`);
}
lines.push(`| **total** | **${raw}** (${(raw / MiB).toFixed(2)} MiB) | **${gz}** (${(gz / MiB).toFixed(2)} MiB) |`, '');

// 2. Cold start: a fresh workerd (new Miniflare) on an already-seeded bucket, to the first answer.
const r2 = await mkdtemp(join(tmpdir(), 'apinode-bench-r2-'));
await (await startWorkerd(bundle, { demoKey: KEY, r2PersistDir: r2 })).close();
const cold: { start: number; first: number; second: number }[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const w = await startWorkerd(bundle, { r2PersistDir: r2, vars: { APINODE_QUERY_LOG: 'off' } });
  await w.mf.ready;
  const t1 = performance.now();
  await predict(w, 'car-mpg', 'v1');
  const t2 = performance.now();
  await predict(w, 'car-mpg', 'v2');
  cold.push({ start: t1 - t0, first: t2 - t1, second: performance.now() - t2 });
  await w.close();
}
lines.push(
  `Cold start (median of ${cold.length} fresh workerd processes): new Miniflare to ready ${median(cold.map((c) => c.start)).toFixed(0)} ms;` +
    ` first predict ${median(cold.map((c) => c.first)).toFixed(0)} ms (ORT init + R2 reads + model load);` +
    ` first predict on the second generation ${median(cold.map((c) => c.second)).toFixed(0)} ms (ORT already up).`,
  '',
);

// 3. Memory and warm latency, on one workerd with every demo generation loaded.
const hello = new Miniflare({ modules: true, script: 'export default { fetch: () => new Response("ok") }', compatibilityDate: '2026-04-01' });
await hello.dispatchFetch('http://localhost/');
const helloRss = workerdRssMiB();
await hello.dispose();
const stderr: string[] = [];
const w = await startWorkerd(bundle, { r2PersistDir: r2, http: true, inspect: true, vars: { APINODE_QUERY_LOG: 'off' }, onStderr: (l) => stderr.push(l) });
const url = (await w.mf.ready).href.replace(/\/$/, '');
await w.fetch('/isAlive');
const idleRss = workerdRssMiB();
const idleHeap = await isolateMiB(w);
for (const [gen, es] of Object.entries(ENDPOINTS)) for (const e of es) await predict(w, e, gen);
const loadedRss = workerdRssMiB();
const loadedHeap = await isolateMiB(w);

lines.push('| run (loopback, Miniflare HTTP port) | req/s | p50 ms | p99 ms | non-2xx |', '|---|---|---|---|---|');
const seq: number[] = [];
for (let i = 0; i < 300; i++) {
  const t = performance.now();
  await predict(w, 'penguin-species', 'v1');
  seq.push(performance.now() - t);
}
lines.push(`| predict penguin-species v1, one at a time (dispatchFetch), 300 calls | ${(1000 / (seq.reduce((a, b) => a + b) / seq.length)).toFixed(0)} | ${median(seq).toFixed(2)} | ${[...seq].sort((a, b) => a - b)[Math.floor(seq.length * 0.99)]!.toFixed(2)} | 0 |`);
for (const [gen, e] of [['v1', 'penguin-species'], ['v1', 'car-mpg'], ['v2', 'flight-delayed']] as const) {
  for (const connections of [1, 16]) {
    const r = await autocannon({ url: `${url}/public/api/v1/demo/${e}/predict`, method: 'POST', body: predictBody(e, gen), headers: auth, connections, duration: 5 });
    lines.push(`| predict ${e} ${gen}, autocannon ${connections} connection(s), 5 s | ${r.requests.average.toFixed(0)} | ${r.latency.p50} (mean ${r.latency.mean.toFixed(2)}) | ${r.latency.p99} | ${r.non2xx + r.errors} |`);
  }
}
const afterLoadRss = workerdRssMiB();
const afterLoadHeap = await isolateMiB(w);
const heap = (h: { js: number; wasm: number }) => `${(h.js + h.wasm).toFixed(1)} MiB (JS heap ${h.js.toFixed(1)} + WASM memory ${h.wasm.toFixed(1)})`;
lines.push(
  '',
  `Isolate memory (V8 inspector): idle ${heap(idleHeap)}; all demo models loaded ${heap(loadedHeap)}; after the load runs ${heap(afterLoadHeap)}.`,
  '',
  `workerd resident memory: ${helloRss.toFixed(0)} MiB for a hello-world Worker; the node ${idleRss.toFixed(0)} MiB idle (bundle loaded, no model),` +
    ` ${loadedRss.toFixed(0)} MiB with all ${ENDPOINTS.v1.length + ENDPOINTS.v2.length} demo models of v1 and v2 loaded, ${afterLoadRss.toFixed(0)} MiB after the load runs.` +
    ` Above the hello-world baseline: ${(loadedRss - helloRss).toFixed(0)} MiB loaded.`,
);
await w.close();
if (stderr.length) lines.push('', 'stderr of the measured workerd (first 5 lines):', ...stderr.slice(0, 5).map((l) => `    ${l.slice(0, 900)}`));
console.log(lines.join('\n'));
