import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { R2Bucket } from '@cloudflare/workers-types';
import { Miniflare } from 'miniflare';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { R2ObjectStore } from '../../src/storage/r2-object-store.js';

/** The deployable Worker as `wrangler deploy --dry-run` writes it: worker.js plus the precompiled ORT WASM. */
export interface WorkerBundle {
  readonly dir: string;
  readonly script: string;
  readonly wasmName: string;
  /** The other precompiled modules (the code sandbox's QuickJS). */
  readonly otherWasm: readonly string[];
}

/** Builds the Worker the way a deploy does (offline), into a fresh temporary folder. */
export async function buildWorker(): Promise<WorkerBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-worker-'));
  await promisify(execFile)(join('node_modules', '.bin', 'wrangler'), ['deploy', '--dry-run', '--outdir', dir], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  });
  const wasms = (await readdir(dir)).filter((f) => f.endsWith('.wasm'));
  const wasmName = wasms.find((f) => f.includes('ort-wasm')) ?? wasms[0];
  if (!wasmName) throw new Error(`wrangler wrote no .wasm module to ${dir}`);
  return { dir, script: 'worker.js', wasmName, otherWasm: wasms.filter((f) => f !== wasmName) };
}

export interface WorkerdOptions {
  /** APINODE_* variables (strings), as in wrangler.toml [vars]. */
  readonly vars?: Record<string, string>;
  /** Seeds the demo service with this key into the fresh bucket. @default - not seeded */
  readonly demoKey?: string;
  /** Replaces the ORT WASM module (to make the runtime fail to start). */
  readonly wasm?: Uint8Array;
  /** Receives every line the Worker writes to stdout (console.log: the query log). */
  readonly onStdout?: (line: string) => void;
  /** Receives every line written to stderr (console.error: the operational log; workerd's own errors). */
  readonly onStderr?: (line: string) => void;
  /** Serve on a loopback HTTP port too (for load tests). @default false */
  readonly http?: boolean;
  /** Keep the R2 bucket in this folder, across instances. @default - in memory */
  readonly r2PersistDir?: string;
  /** Open the V8 inspector (the Worker is named "apinode": ws://…/core:user:apinode). @default false */
  readonly inspect?: boolean;
}

export interface Workerd {
  readonly mf: Miniflare;
  readonly bucket: R2Bucket;
  readonly store: R2ObjectStore;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A fresh workerd (one Miniflare instance, one isolate) running the built bundle on an empty local R2 bucket. */
export async function startWorkerd(bundle: WorkerBundle, opts: WorkerdOptions = {}): Promise<Workerd> {
  const mf = new Miniflare({
    modulesRoot: bundle.dir,
    modules: [
      { type: 'ESModule', path: join(bundle.dir, bundle.script), contents: await readFile(join(bundle.dir, bundle.script), 'utf8') },
      { type: 'CompiledWasm', path: join(bundle.dir, bundle.wasmName), contents: opts.wasm ?? (await readFile(join(bundle.dir, bundle.wasmName))) },
      ...(await Promise.all(bundle.otherWasm.map(async (f) => ({ type: 'CompiledWasm' as const, path: join(bundle.dir, f), contents: await readFile(join(bundle.dir, f)) })))),
    ],
    compatibilityDate: '2026-04-01',
    r2Buckets: { GENERATIONS: 'apinode-generations' },
    bindings: { ...opts.vars },
    ...(opts.http ? { host: '127.0.0.1', port: 0 } : {}),
    ...(opts.r2PersistDir ? { r2Persist: opts.r2PersistDir } : {}),
    ...(opts.inspect ? { name: 'apinode', inspectorPort: 0 } : {}),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      const out = createInterface({ input: stdout });
      out.on('line', (line) => opts.onStdout?.(line));
      const err = createInterface({ input: stderr });
      err.on('line', (line) => opts.onStderr?.(line));
    },
  });
  // Miniflare's proxy types come from workers-types/experimental: the same bucket API.
  const bucket = (await mf.getR2Bucket('GENERATIONS')) as unknown as R2Bucket;
  const store = new R2ObjectStore(bucket);
  if (opts.demoKey) await seedDemo(store, opts.demoKey);
  return {
    mf,
    bucket,
    store,
    fetch: (path, init) => mf.dispatchFetch(`http://localhost${path}`, init as never) as unknown as Promise<Response>,
    close: () => mf.dispose(),
  };
}
