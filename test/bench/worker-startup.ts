/**
 * The Worker's startup phase (its top-level code, what Cloudflare's 1 s startup limit counts),
 * profiled locally by `wrangler check startup` on the bundle a deploy builds; and whether that
 * bundle's JavaScript is minified, with its size raw and gzip.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Profile {
  startTime: number;
  endTime: number;
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
}

export async function workerStartup(): Promise<{ lines: string[]; cpuMs: number; wallMs: number; minified: boolean; jsBytes: number; jsGzip: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-startup-'));
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' };
  await run(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', join(dir, 'bundle')], { cwd: ROOT, env });
  const js = await readFile(join(dir, 'bundle', 'worker.js'), 'utf8');
  // Minified: few, long lines (esbuild's minifier), not one statement per line.
  const lines = js.split('\n');
  const minified = js.length / lines.length > 500;
  await run(join(ROOT, 'node_modules/.bin/wrangler'), ['check', 'startup', '--outfile', join(dir, 'startup.cpuprofile')], { cwd: ROOT, env });
  const p = JSON.parse(await readFile(join(dir, 'startup.cpuprofile'), 'utf8')) as Profile;
  const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const cpuUs = p.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : (p.timeDeltas[i] ?? 0)), 0);
  const wallMs = (p.endTime - p.startTime) / 1000;
  const wasm = (await readdir(join(dir, 'bundle'))).filter((f) => f.endsWith('.wasm'));
  return {
    lines: [
      `Startup phase (\`wrangler check startup\`, profiled in local workerd): ${(cpuUs / 1000).toFixed(0)} ms of CPU over ${wallMs.toFixed(0)} ms profiled; Cloudflare's limit is 1 s. The precompiled WebAssembly modules (${wasm.join(', ')}) are compiled by the runtime before the script starts and are not in this profile.`,
      `worker.js: ${minified ? 'minified' : 'NOT minified'}, ${js.length} bytes, gzip ${gzipSync(js, { level: 9 }).byteLength} bytes.`,
    ],
    cpuMs: cpuUs / 1000,
    wallMs,
    minified,
    jsBytes: js.length,
    jsGzip: gzipSync(js, { level: 9 }).byteLength,
  };
}
