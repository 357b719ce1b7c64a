/**
 * npm run soak (not part of npm test; run by .ci/run): SOAK_DURATION_S (default 60) seconds of
 * mixed traffic at SOAK_CONNECTIONS (32) connections and SOAK_RATE (500) requests/s on loopback against the BUILT node
 * (dist/node/node.mjs): predict, predict-multi, functions, SQL, bad requests, and one hostile
 * function call every second (a CPU loop, an allocation loop, a huge answer, a throw whose message
 * getter never returns); SOAK_KINDS picks part of it. It fails (exit 1) if any well-formed request
 * fails or takes longer than 10 s, if p99 of predict exceeds SOAK_MAX_P99_MS (50), or if the
 * node's RSS at the end is more than 20% above its RSS after warm-up. Figures:
 * docs/benchmarks.md#soak.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packTarGz } from '../../src/services/archive.js';
import { sha256Hex } from '../../src/storage/content-hash.js';
import { demoRecords } from '../support/demo-records.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DURATION_S = Number(process.env.SOAK_DURATION_S ?? 60);
const WARMUP_S = Number(process.env.SOAK_WARMUP_S ?? Math.min(10, DURATION_S / 6));
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 32);
/**
 * Requests per second over all connections: a steady load, about half of what this node
 * serves flat out on 2 cores with this mix, as a production node runs with headroom. A closed
 * loop (SOAK_RATE=0) measures capacity, where latency is connections / throughput by
 * construction; `npm run bench` measures that.
 */
const RATE = Number(process.env.SOAK_RATE ?? 500);
/**
 * What fails the run: 'all' (default) the three criteria; 'failures' only a failed well-formed
 * request, the p99 and RSS targets then printed as missed (.ci/run: timing on a shared CI
 * machine is a figure to report, docs/benchmarks.md, not a gate; STYLE: no timed tests).
 */
const GATE = process.env.SOAK_GATE === 'failures' ? 'failures' : 'all';
const MAX_P99_MS = Number(process.env.SOAK_MAX_P99_MS ?? 50);
/** SOAK_KINDS picks the traffic (default all), to tell the kinds' effects apart, e.g. SOAK_KINDS=predict,bad. */
const KINDS = new Set((process.env.SOAK_KINDS ?? 'predict,predict-multi,function,sql,bad,hostile').split(','));
const HOSTILE = KINDS.has('hostile') ? (process.env.SOAK_HOSTILE ?? 'spin,hoard,huge,evil').split(',').filter(Boolean) : [];
const KEY = 'soak-demo-key';
const ADMIN = 'soak-admin-key-0123456789';
const REQUEST_TIMEOUT_MS = 10_000;

const HOSTILE_JS = `
export function spin() { for (;;) {} }
export function hoard() { const a = []; for (;;) a.push('x'.repeat(1 << 16) + a.length); }
export function huge() { return 'x'.repeat(300 * 1024 * 1024); }
export function evil() { throw { get message() { for (;;) {} } }; }
`;

interface Shot {
  readonly kind: string;
  readonly path: string;
  readonly body: string;
  readonly auth: boolean;
  /** The status a correct node answers. */
  readonly expect: number;
}

const records = demoRecords(50);
const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;
const all: ((i: number) => Shot)[] = [
  ...['penguin-species', 'flight-delayed', 'car-mpg', 'penguin-species', 'car-mpg'].map((e) => (i: number) => ({ kind: 'predict', path: `/public/api/v1/demo/${e}/predict`, body: JSON.stringify({ features: pick(records[e]!, i) }), auth: true, expect: 200 })),
  (i) => ({ kind: 'predict-multi', path: '/public/api/v1/demo/car-mpg/predict-multi', body: JSON.stringify({ items: Array.from({ length: 20 }, (_, k) => ({ features: pick(records['car-mpg']!, i + k) })) }), auth: true, expect: 200 }),
  (i) => ({ kind: 'function', path: '/public/api/v1/demo/sum/run', body: JSON.stringify({ a: i, b: 1 }), auth: true, expect: 200 }),
  () => ({ kind: 'sql', path: '/public/api/v1/demo/cars-by-origin/query', body: JSON.stringify({ origin: 'Japan', minMpg: 30 }), auth: true, expect: 200 }),
  () => ({ kind: 'bad', path: '/public/api/v1/demo/car-mpg/predict', body: '{"features": ', auth: true, expect: 400 }),
  () => ({ kind: 'bad', path: '/public/api/v1/demo/car-mpg/predict', body: '{}', auth: false, expect: 401 }),
];
const mix = all.filter((shot) => KINDS.has(shot(0).kind));

function rss(pid: number): number {
  const status = spawnSync('cat', [`/proc/${pid}/status`]).stdout.toString();
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

const MiB = (b: number) => (b / 2 ** 20).toFixed(0);
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]! : NaN);

// 1. Build and start the node as `npm start` does.
if (spawnSync(process.execPath, ['scripts/build-node.mjs'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
const dir = await mkdtemp(join(tmpdir(), 'apinode-soak-'));
const child = spawn(process.execPath, ['dist/node/node.mjs'], {
  cwd: ROOT,
  env: { ...process.env, PORT: '0', APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_ADMIN_KEY: ADMIN, APINODE_QUERY_LOG: 'off' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
// However the soak ends (a failed step throws), the node ends with it; SIGKILL: a hung node ignores SIGTERM.
process.on('exit', () => child.kill('SIGKILL'));
let stderr = '';
child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-4000)));
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.once('exit', (code) => reject(new Error(`the node exited with ${code}: ${stderr}`)));
});

const adminHeaders = { Authorization: `Bearer ${ADMIN}` };
const admin = async (method: string, path: string, body?: BodyInit) => {
  const res = await fetch(`${url}/admin/api${path}`, { method, headers: adminHeaders, body });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
};

// 2. The hostile functions, imported like any generation.
const code = new TextEncoder().encode(HOSTILE_JS);
const codeSha = await sha256Hex(code);
const manifest = {
  formatVersion: 1,
  generation: 'g1',
  createdAt: new Date().toISOString(),
  endpoints: ['spin', 'hoard', 'huge', 'evil'].map((f) => ({ id: f, type: 'FUNCTION', function: f, parameters: [], code: { file: 'code/hostile.js', sha256: codeSha, limits: { cpuTimeMs: 1000, memoryMiB: 32 } } })),
};
if (HOSTILE.length) {
  await admin('POST', '/services', JSON.stringify({ serviceId: 'hostile' }));
  await admin('POST', '/services/hostile/generations', packTarGz(new Map([['manifest.json', new TextEncoder().encode(JSON.stringify(manifest))], ['code/hostile.js', code]])) as BodyInit);
  await admin('POST', '/services/hostile/actions/setAuth', JSON.stringify({ method: 'PUBLIC' }));
  await admin('POST', '/services/hostile/actions/switchTo/g1');
}

// 3. Traffic, after one call of each kind (model loads, the demo database's start).
for (const [i, shot] of mix.entries()) {
  const s = shot(i);
  const res = await fetch(url + s.path, { method: 'POST', body: s.body, headers: s.auth ? { Authorization: `Bearer ${KEY}` } : {} });
  if (res.status !== s.expect) throw new Error(`warm-up ${s.kind} ${s.path}: ${res.status} ${await res.text()}`);
}

const latencies = new Map<string, number[]>();
const failures: string[] = [];
const hostile: { fn: string; status: number | string; ms: number }[] = [];
const started = performance.now();
const endAt = started + DURATION_S * 1000;
const warmAt = started + WARMUP_S * 1000;
let rssWarm = 0;
let rssMax = 0;
let sent = 0;

async function shoot(s: Shot): Promise<void> {
  const from = performance.now();
  try {
    const res = await fetch(url + s.path, { method: 'POST', body: s.body, headers: s.auth ? { Authorization: `Bearer ${KEY}` } : {}, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await res.arrayBuffer();
    const ms = performance.now() - from;
    if (res.status !== s.expect) failures.push(`${s.kind} ${s.path}: ${res.status}, expected ${s.expect}`);
    else if (from >= warmAt) {
      const xs = latencies.get(s.kind);
      if (xs) xs.push(ms);
      else latencies.set(s.kind, [ms]);
    }
  } catch (e) {
    failures.push(`${s.kind} ${s.path}: ${(e as Error).name} ${(e as Error).message}`);
  }
}

/** Each connection sends at RATE / CONNECTIONS per second (its next request is due on a fixed schedule; a late answer makes it send at once), or flat out with SOAK_RATE=0. */
async function connection(c: number): Promise<void> {
  const everyMs = RATE > 0 ? (1000 * CONNECTIONS) / RATE : 0;
  let due = performance.now() + (everyMs * c) / CONNECTIONS;
  for (let i = c; performance.now() < endAt; i += CONNECTIONS) {
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    due += everyMs;
    await shoot(pick(mix, i)(i));
    sent++;
  }
}

async function hostileLoop(): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; HOSTILE.length && performance.now() < endAt - 1000; i++) {
    const fn = pick(HOSTILE, i);
    const from = performance.now();
    pending.push(
      fetch(`${url}/public/api/v1/hostile/${fn}/run`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(30_000) })
        .then(async (res) => {
          const body = (await res.json().catch(() => ({}))) as { errorType?: string };
          hostile.push({ fn, status: `${res.status} ${body.errorType ?? ''}`.trim(), ms: performance.now() - from });
        })
        .catch((e: unknown) => void hostile.push({ fn, status: (e as Error).name, ms: performance.now() - from })),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  await Promise.all(pending);
}

const sampler = setInterval(() => {
  const now = rss(child.pid!);
  rssMax = Math.max(rssMax, now);
  if (!rssWarm && performance.now() >= warmAt) rssWarm = now;
}, 250);
await Promise.all([...Array.from({ length: CONNECTIONS }, (_, c) => connection(c)), hostileLoop()]);
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1000));
const rssEnd = rss(child.pid!);
child.kill('SIGTERM');
setTimeout(() => child.kill('SIGKILL'), 3000).unref();

// 4. Verdict.
const predict = latencies.get('predict') ?? [];
const p99 = pct(predict, 99);
const growth = rssWarm ? rssEnd / rssWarm - 1 : NaN;
const lines = [
  `Soak: ${DURATION_S} s (warm-up ${WARMUP_S} s), ${CONNECTIONS} connections at ${RATE > 0 ? `${RATE} req/s` : 'full speed'}, ${sent} requests (${(sent / DURATION_S).toFixed(0)}/s), hostile calls: ${hostile.length}.`,
  '',
  '| kind | requests after warm-up | p50 ms | p99 ms | max ms |',
  '|---|---|---|---|---|',
  ...[...latencies].map(([k, xs]) => `| ${k} | ${xs.length} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 99).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`),
  '',
  `RSS: ${MiB(rssWarm)} MiB after warm-up, ${MiB(rssMax)} MiB at most, ${MiB(rssEnd)} MiB at the end (${(growth * 100).toFixed(1)}%).`,
  `Hostile calls: ${[...new Set(hostile.map((h) => `${h.fn} → ${h.status}`))].join('; ')}; slowest ${Math.max(0, ...hostile.map((h) => h.ms)).toFixed(0)} ms.`,
  `Failed well-formed requests: ${failures.length}${failures.length ? ` (first: ${[...new Set(failures)].slice(0, 5).join(' | ')})` : ''}.`,
];
console.log(lines.join('\n'));
const missed = [
  ...(!(p99 <= MAX_P99_MS) ? [`p99 of predict ${p99.toFixed(1)} ms > ${MAX_P99_MS} ms`] : []),
  ...(!(growth <= 0.2) ? [`RSS grew ${(growth * 100).toFixed(1)}% after warm-up (> 20%)`] : []),
];
const verdict = [...(failures.length ? [`${failures.length} well-formed requests failed`] : []), ...(GATE === 'all' ? missed : [])];
if (GATE !== 'all' && missed.length) console.log(`SOAK TARGETS MISSED (reported, not gating with SOAK_GATE=${GATE}): ${missed.join('; ')}`);
console.log(verdict.length ? `SOAK FAILED: ${verdict.join('; ')}` : 'SOAK PASSED');
process.exit(verdict.length ? 1 : 0);
