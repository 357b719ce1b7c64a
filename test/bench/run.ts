/**
 * npm run bench: every speed target of issue 16, measured side by side in one run, printed as
 * one markdown report ending in a table of targets marked met or missed. docs/benchmarks.md
 * holds the last run. BENCH_DURATION_S (5) per load run, BENCH_REPS (3) repetitions,
 * BENCH_MEMORY_LOAD_S (60), BENCH_SKIP=workers,lambda,… to leave parts out.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { lambdaColdStart, nodeColdStart, ortColdStart } from './cold-start.js';
import { memory } from './memory.js';
import { modelAttacks } from './model-attacks.js';
import { compareRuntimes } from './ort-compare.js';
import { ECHO_ENTRY, NODE_ENTRY, buildEntries, median, startProc, type Proc } from './servers.js';
import { KEY, predictMulti, throughput, warm } from './throughput.js';
import { workerStartup } from './worker-startup.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const MEMORY_LOAD_S = Number(process.env.BENCH_MEMORY_LOAD_S ?? 60);
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
const run = promisify(execFile);

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
  by?: string;
}
const targets: Target[] = [];
const out: string[] = [];
const section = (title: string, lines: string[]) => out.push(`### ${title}`, '', ...lines, '');
const load0 = loadavg()[0]!;
const commit = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).catch(() => ({ stdout: '?' }))).stdout.trim();
const dirty = (await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).catch(() => ({ stdout: '' }))).stdout.trim() ? ' + uncommitted changes' : '';

await buildEntries();
const dir = await mkdtemp(join(tmpdir(), 'apinode-bench-'));
const env = { APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'stdout' };

// 1-3. Warm throughput, micro-batching, predict-multi: three nodes (defaults, batching off, models in-process) and the echo, all up at once.
{
  const on = await startProc(NODE_ENTRY, env);
  const off = await startProc(NODE_ENTRY, { ...env, APINODE_PREDICT_BATCHING: 'off' });
  const inproc = await startProc(NODE_ENTRY, { ...env, APINODE_MODEL_THREADS: '0' });
  const echo = await startProc(ECHO_ENTRY, {});
  try {
    for (const p of [on, off, inproc]) {
      await waitUp(p);
      await warm(p);
    }
    await waitUp(echo);
    const t = await throughput({ on, off, inproc }, echo, REPS, DURATION_S);
    section('Throughput: predict against the bare Hono echo (query log on, to /dev/null)', t.lines);
    const ratio = median(t.ratios16);
    targets.push({ name: 'predict req/s vs bare echo, 16 connections (penguin-species v2)', target: '≥ 60%', measured: `${(100 * ratio).toFixed(0)}% (range ${(100 * Math.min(...t.ratios16)).toFixed(0)}-${(100 * Math.max(...t.ratios16)).toFixed(0)}%); CPU/request ${median(t.cpuNode16).toFixed(0)} µs node, ${median(t.cpuEcho16).toFixed(0)} µs echo`, met: ratio >= 0.6, by: `${(60 - 100 * ratio).toFixed(0)} points` });
    const pm = await predictMulti(on);
    section('predict-multi of 1,000 records (sequential calls, query log on)', pm.lines);
    targets.push({ name: 'predict-multi of 1,000 records, server-side (worst demo model, median)', target: '≤ 5 ms', measured: `${pm.worstTimingMs.toFixed(2)} ms (sum of timing); ${pm.worstCpuMs.toFixed(1)} ms server CPU per call incl. HTTP, JSON and query log`, met: pm.worstTimingMs <= 5, by: `${(pm.worstTimingMs - 5).toFixed(2)} ms` });
  } finally {
    await Promise.all([on.stop(), off.stop(), inproc.stop(), echo.stop()]);
  }
}

// Hostile models at run time (issue 15): what a request that allocates or computes for long costs the others.
if (!skip.has('attacks')) section('Hostile models at run time (dist/node; probes every 20 ms while each runs)', await modelAttacks());

// 4. Cold start, Node.
{
  const c = await nodeColdStart(env, 5);
  section('Cold start, Node', [...c.lines, '', 'Where a cold start goes, in part: the model runtime alone, 3 fresh processes each:', '', ...(await ortColdStart(3))]);
  targets.push({ name: 'Node: spawn → first predict, over spawn → first echo answer', target: '≤ 4x', measured: `${c.ratio.toFixed(1)}x (${median(c.node).toFixed(0)} ms vs ${median(c.echo).toFixed(0)} ms); CPU by then ${c.cpuRatio.toFixed(1)}x`, met: c.ratio <= 4, by: `${(c.ratio - 4).toFixed(1)}x` });
}

// 8. Memory.
{
  const p = await startProc(NODE_ENTRY, env);
  try {
    await waitUp(p);
    const m = await memory(p, MEMORY_LOAD_S);
    section('Memory, Node', m.lines);
    targets.push({ name: 'Node RSS with every demo model loaded', target: '≤ 250 MB', measured: `${m.loadedMiB.toFixed(0)} MiB`, met: m.loadedMiB <= 250, by: `${(m.loadedMiB - 250).toFixed(0)} MiB` });
    targets.push({ name: `Node RSS flat over ${MEMORY_LOAD_S} s of load (median of the last third of samples vs the first third's)`, target: '< +10%', measured: `${(100 * (m.growth - 1)).toFixed(1)}%`, met: m.growth < 1.1 });
  } finally {
    await p.stop();
  }
}

// 5. Cold start, Lambda (built bundle, fresh process, real API Gateway v2 event).
if (!skip.has('lambda')) {
  const l = await lambdaColdStart(3);
  section('Cold start, Lambda (dist/lambda/index.mjs, fresh Node process, S3 on loopback)', l.lines);
  targets.push({ name: 'Lambda: init + first answer, no preload', target: '≤ 600 ms', measured: `${l.noPreloadMs.toFixed(0)} ms (RSS up to ${l.rssMiB.toFixed(0)} MiB)`, met: l.noPreloadMs <= 600, by: `${(l.noPreloadMs - 600).toFixed(0)} ms` });
}

// 6. Workers.
if (!skip.has('workers')) {
  const s = await workerStartup();
  const { stdout } = await run(process.execPath, ['--experimental-websocket', '--no-warnings=ExperimentalWarning', '--import', 'tsx', 'test/bench/workers.ts'], { cwd: ROOT, maxBuffer: 1 << 24 });
  section('Cloudflare Workers (workerd through Miniflare, the bundle of `wrangler deploy --dry-run`)', [...s.lines, '', stdout.trim()]);
  const first = /first predict (\d+) ms/.exec(stdout)?.[1];
  targets.push({ name: 'Workers: startup (top-level) CPU, wrangler check startup', target: '≤ 500 ms (1 s limit, 2x margin)', measured: `${s.cpuMs.toFixed(0)} ms CPU of ${s.wallMs.toFixed(0)} ms profiled`, met: s.cpuMs <= 500 });
  targets.push({ name: 'Workers: JavaScript minified', target: 'yes', measured: s.minified ? `yes, worker.js ${(s.jsBytes / 1024).toFixed(0)} KiB, gzip ${(s.jsGzip / 1024).toFixed(0)} KiB` : 'no', met: s.minified });
  targets.push({ name: 'Workers: fresh workerd → first prediction', target: 'reported', measured: `${first ?? '?'} ms after ready`, met: null });
}

// 7. onnxruntime-web against onnxruntime-node.
{
  const o = await compareRuntimes();
  section('onnxruntime-web against onnxruntime-node (same feeds, CPU time per run)', o.lines);
  targets.push({ name: 'onnxruntime-web / onnxruntime-node, batch 1,000 (worst demo model)', target: '≤ 1.5x', measured: `${o.worst1000.toFixed(2)}x`, met: o.worst1000 <= 1.5, by: `${(o.worst1000 - 1.5).toFixed(2)}x` });
  targets.push({ name: 'onnxruntime-web / onnxruntime-node, batch 1 (worst demo model)', target: '≤ 2x', measured: `${o.worst1.toFixed(2)}x`, met: o.worst1 <= 2, by: `${(o.worst1 - 2).toFixed(2)}x` });
}

const cpu = cpus()[0]?.model ?? 'cpu';
console.log(`## Results: ${new Date().toISOString().slice(0, 16)}Z, commit ${commit}${dirty}`);
console.log(`\n${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load0.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end (other processes share the machine when it is above ~1).\n`);
console.log(out.join('\n'));
console.log('### Targets (issue 16)\n\n| target | wanted | measured | |\n|---|---|---|---|');
for (const t of targets) console.log(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? 'reported' : t.met ? '**met**' : `**missed**${t.by ? ` by ${t.by}` : ''}`} |`);

async function waitUp(p: Proc): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const status = await fetch(`${p.url}/isAlive`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (status === 404) {
      const echo = await fetch(`${p.url}/echo`, { method: 'POST', body: '{}' }).then((r) => r.status, () => 0);
      if (echo === 200) return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${p.url} did not come up: ${p.stderr()}`);
}
