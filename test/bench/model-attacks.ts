/**
 * Hostile models at run time against the built node (dist/node), models in threads (the
 * default) side by side with models on the serving thread (APINODE_MODEL_THREADS=0), capped or
 * not: each attack
 * once, with /isAlive and a demo predict probed every 20 ms while it runs, and the process's RSS
 * before, at its peak and 3 s after. Figures for docs/isolation-models.md (issue 15).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packTarGz } from '../../src/services/archive.js';
import { allocatingModel, slowRunModel, xGeneration } from '../support/hostile-models.js';
import { NODE_ENTRY, startProc, type Proc } from './servers.js';
import { KEY, auth, predictBody } from './throughput.js';

const ADMIN = 'bench-admin-key-0123456789';
const admin = { Authorization: `Basic ${btoa(`${ADMIN}:`)}` };

const generation = (onnx: Uint8Array) => packTarGz(xGeneration('g1', onnx, [{ features: { x: 1 }, expected: { prediction: 1 } }]));

async function call(p: Proc, method: string, path: string, body?: BodyInit): Promise<void> {
  const res = await fetch(`${p.url}/admin/api${path}`, { method, headers: admin, ...(body ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function setup(p: Proc, service: string, onnx: Uint8Array): Promise<void> {
  await call(p, 'POST', '/services', JSON.stringify({ serviceId: service }));
  await call(p, 'POST', `/services/${service}/actions/setAuth`, JSON.stringify({ method: 'PUBLIC' }));
  await call(p, 'POST', `/services/${service}/generations`, generation(onnx) as BodyInit);
  await call(p, 'POST', `/services/${service}/actions/switchTo/g1`);
}

const timed = async (url: string, init?: RequestInit) => {
  const from = performance.now();
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - from };
};

interface Attack {
  readonly name: string;
  readonly service: string;
  readonly x: number;
}

async function attack(p: Proc, a: Attack): Promise<string> {
  const rss0 = p.rssMiB();
  let peak = rss0;
  let done = false;
  const alive: number[] = [];
  const predicts: number[] = [];
  const demo = () => timed(`${p.url}/public/api/v1/demo/car-mpg/predict`, { method: 'POST', headers: auth, body: predictBody('car-mpg', 'v2') });
  const probe = (async () => {
    while (!done) {
      peak = Math.max(peak, p.rssMiB());
      const [l, d] = await Promise.all([timed(`${p.url}/isAlive`), demo()]);
      alive.push(l.ms);
      predicts.push(d.status === 200 ? d.ms : Infinity);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const res = await timed(`${p.url}/public/api/v1/${a.service}/m/predict`, { method: 'POST', body: JSON.stringify({ features: { x: a.x } }) }).finally(() => (done = true));
  await probe;
  peak = Math.max(peak, p.rssMiB());
  await new Promise((r) => setTimeout(r, 3000));
  peak = Math.max(peak, p.rssMiB());
  const max = (xs: number[]) => (xs.length ? Math.max(...xs).toFixed(0) : '-');
  return `| ${a.name} | ${res.status} in ${res.ms.toFixed(0)} ms | ${max(alive)} | ${max(predicts)} | ${rss0.toFixed(0)} / ${peak.toFixed(0)} / ${p.rssMiB().toFixed(0)} |`;
}

export async function modelAttacks(): Promise<string[]> {
  const lines = ['| attack | answer | slowest /isAlive ms | slowest concurrent predict ms | RSS MiB before / peak / 3 s after |', '|---|---|---|---|---|'];
  const attacks: Attack[] = [
    { name: '512 MiB allocated from the input (x = 2^27)', service: 'alloc', x: 2 ** 27 },
    { name: '3.6 GB allocated from the input (x = 9e8)', service: 'alloc', x: 9e8 },
    { name: 'a run of minutes (x = 2,000: 100 products of 2000² matrices)', service: 'slow', x: 2000 },
  ];
  const configs: [string, Record<string, string>][] = [
    ['models in threads (the defaults)', {}],
    ['models on the serving thread (APINODE_MODEL_THREADS=0), heap capped (the default 1,024 MiB)', { APINODE_MODEL_THREADS: '0' }],
    ['models on the serving thread, heap uncapped (4,096 MiB): the node before issue 15', { APINODE_MODEL_THREADS: '0', APINODE_MODEL_MAX_MEMORY_MIB: '4096' }],
  ];
  for (const [label, extra] of configs) {
    const dir = await mkdtemp(join(tmpdir(), 'apinode-attacks-'));
    const p = await startProc(NODE_ENTRY, { APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_ADMIN_KEY: ADMIN, APINODE_QUERY_LOG: 'off', APINODE_IMPORT_MODEL_MAX_MS: '60000', ...extra });
    try {
      for (let i = 0; i < 500 && (await fetch(`${p.url}/isAlive`).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 20));
      await setup(p, 'alloc', allocatingModel('x'));
      await setup(p, 'slow', slowRunModel(100));
      await timed(`${p.url}/public/api/v1/demo/car-mpg/predict`, { method: 'POST', headers: auth, body: predictBody('car-mpg', 'v2') });
      lines.push(`| **${label}** | | | | |`);
      // On the serving thread the run of minutes would hold the node for minutes: left out there.
      for (const a of attacks) {
        if (extra.APINODE_MODEL_THREADS && a.service === 'slow') continue;
        // A node that dies is a result (it happened to the uncapped one), not a failed benchmark.
        const row = await attack(p, a).catch((e: unknown) => `| ${a.name} | the node stopped answering (${String(e)}; ${(e as Error).cause ?? ''}) | | | |`);
        lines.push(row);
        if (row.includes('stopped answering')) break;
      }
    } finally {
      await p.stop();
    }
  }
  return lines;
}
