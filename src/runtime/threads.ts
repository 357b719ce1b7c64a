import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The node's thread entries, each built to its own file beside the bundle (scripts/build-*.ts). */
export type ThreadEntry = 'code-worker' | 'model-thread';

/**
 * A new thread running one of the node's entries: the built file beside the bundle (dist/node,
 * dist/lambda), or the TypeScript source (dev, tests) loaded through tsx's loader, which Node 20
 * does not pass on to threads from `--import` in execArgv.
 */
export function startThread(entry: ThreadEntry, options: Pick<WorkerOptions, 'env' | 'workerData'> = {}): Worker {
  const data = options.workerData;
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${entry}.mjs`, import.meta.url), { ...options, workerData: { data } });
  // The package's ESM build of its API, beside the CommonJS one `require` resolves.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const boot = 'const { workerData: d } = require("node:worker_threads"); import(d.tsx).then((t) => { t.register(); return import(d.entry); })';
  return new Worker(boot, { ...options, eval: true, workerData: { tsx, entry: new URL(`./${entry}.ts`, import.meta.url).href, data } });
}

/** What the parent gave a thread started by startThread (its `workerData` option). */
export function threadData<T>(workerData: unknown): T {
  return (workerData as { data: T }).data;
}
