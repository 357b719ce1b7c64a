import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Server {
  url: string;
  stop(): void;
}

/** Starts a server script through tsx as its own process (so the load generator does not share its core). */
export function spawnServer(script: string, env: Record<string, string>, ready: RegExp): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = ready.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill('SIGTERM') });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** The node as `npm start` runs it (dist/node/node.mjs) and the bare echo built the same way (dist/bench/echo.mjs). */
export const NODE_ENTRY = 'dist/node/node.mjs';
export const ECHO_ENTRY = 'dist/bench/echo.mjs';

/** Builds both entries: scripts/build-node.mjs, and the echo with the same esbuild options. */
export async function buildEntries(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, ['scripts/build-node.mjs'], { cwd: ROOT, stdio: 'inherit' }).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build-node exited with ${code}`)))),
  );
  await build({ absWorkingDir: ROOT, entryPoints: ['test/bench/echo-server.ts'], outfile: ECHO_ENTRY, bundle: true, packages: 'external', platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning' });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Proc {
  readonly pid: number;
  readonly url: string;
  /** CPU time (user + system) the process used so far, in microseconds. */
  cpuUs(): number;
  /** Resident memory, MiB. */
  rssMiB(): number;
  /** The last 4,000 characters of its stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Spawns a built entry with plain `node` (as `npm start` does), stdout to /dev/null (the query
 * log, on, as a production node writes it), on a port chosen here.
 */
export async function startProc(entry: string, env: Record<string, string>, args: string[] = []): Promise<Proc & { spawnedAt: number }> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...args, entry], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let stopping = false;
  child.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    if ((code || signal) && !stopping) console.error(`${entry} exited with ${code ?? signal}: ${stderr.slice(-1000)}`);
  });
  const pid = child.pid!;
  return {
    pid,
    spawnedAt,
    url: `http://127.0.0.1:${port}`,
    cpuUs: () => cpuUs(pid),
    stderr: () => stderr,
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024,
    stop: async () => {
      stopping = true;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** utime + stime of a process (Linux /proc), in microseconds. */
export function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100); // USER_HZ is 100 on Linux
}

/** Polls (every 2 ms) until the request is answered 200; the time from `from` to that answer, in ms. */
export async function firstAnswer(url: string, init: RequestInit, from: number, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
      return performance.now() - from;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // refused: not listening yet
      if (performance.now() - from > timeoutMs) throw new Error(`${url}: no answer after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** "median (min-max)". */
export const spread = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
