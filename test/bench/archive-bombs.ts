/**
 * Archive bombs against unpackArchive: for each, the peak RSS it adds and the time to the
 * rejection, in a child process of its own (so one case's heap never counts in another's).
 *
 *   npx tsx test/bench/archive-bombs.ts            all cases, a table
 *   npx tsx test/bench/archive-bombs.ts --json     the same as JSON
 *   npx tsx test/bench/archive-bombs.ts --impl /tmp/old-archive.ts
 *                                                   another unpackArchive (an older version, say)
 *
 * Each bomb is about 1 MB packed and 1 GiB unpacked, built by streaming zeros through node:zlib
 * (the bench itself never holds the gigabyte). Limits are the node's defaults (256 MiB).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants, createDeflateRaw, createGzip, crc32 } from 'node:zlib';
import { ustarHeader } from '../support/archive-bombs.js';

const GIB = 1024 ** 3;
const LIMIT = 256 * 1024 * 1024;

/** The compressed bytes of `size` zeros, after `prefix` (a tar header, say), as one stream. */
async function squeeze(compressor: ReturnType<typeof createGzip>, size: number, prefix = new Uint8Array(0), suffix = new Uint8Array(0)): Promise<Uint8Array<ArrayBuffer>> {
  const out: Buffer[] = [];
  compressor.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve) => compressor.on('end', resolve));
  const write = (b: Uint8Array) => new Promise<void>((resolve) => (compressor.write(b) ? resolve() : compressor.once('drain', resolve)));
  await write(prefix);
  const zeros = new Uint8Array(16 * 1024 * 1024);
  for (let left = size; left > 0; left -= zeros.length) await write(zeros.subarray(0, Math.min(left, zeros.length)));
  await write(suffix);
  compressor.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

const tarHeader = (name: string, size: number) => ustarHeader(name, size) as Uint8Array<ArrayBuffer>;

/** A one-entry zip of deflated zeros; the sizes written in its headers may lie (`declared`). */
async function zipOfZeros(size: number, declared = size): Promise<Uint8Array<ArrayBuffer>> {
  const data = await squeeze(createDeflateRaw({ level: constants.Z_BEST_COMPRESSION }), size);
  let crc = 0;
  const zeros = new Uint8Array(16 * 1024 * 1024);
  for (let left = size; left > 0; left -= zeros.length) crc = crc32(zeros.subarray(0, Math.min(left, zeros.length)), crc);
  const name = new TextEncoder().encode('model.onnx');
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, 8, true);
  local.setUint32(14, crc, true);
  local.setUint32(18, data.length, true);
  local.setUint32(22, declared, true);
  local.setUint16(26, name.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 20, true);
  central.setUint16(6, 20, true);
  central.setUint16(10, 8, true);
  central.setUint32(16, crc, true);
  central.setUint32(20, data.length, true);
  central.setUint32(24, declared, true);
  central.setUint16(28, name.length, true);
  const cdOffset = 30 + name.length + data.length;
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, 46 + name.length, true);
  end.setUint32(16, cdOffset, true);
  return new Uint8Array(Buffer.concat([new Uint8Array(local.buffer), name, data, new Uint8Array(central.buffer), name, new Uint8Array(end.buffer)]));
}

const CASES: Record<string, { what: string; build: () => Promise<Uint8Array> }> = {
  'gzip-zeros': { what: 'gzip of 1 GiB of zeros (no tar inside)', build: () => squeeze(createGzip({ level: 9 }), GIB) },
  'targz-file': { what: 'tar.gz: one 1 GiB file of zeros', build: () => squeeze(createGzip({ level: 9 }), GIB, tarHeader('model.onnx', GIB), new Uint8Array(1024)) },
  'targz-junk': { what: 'tar.gz: a 1-file tar, then 1 GiB of zeros after its end', build: () => squeeze(createGzip({ level: 9 }), GIB, new Uint8Array([...tarHeader('a.txt', 1), 97, ...new Uint8Array(511)])) },
  'zip-file': { what: 'zip: one 1 GiB file of zeros', build: () => zipOfZeros(GIB) },
  'zip-lying': { what: 'zip: 1 GiB of zeros declared as 1 KiB', build: () => zipOfZeros(GIB, 1024) },
};

async function child(file: string, impl: string): Promise<void> {
  const { unpackArchive } = (await import(pathToFileURL(impl).href)) as { unpackArchive: (bytes: Uint8Array, maxBytes: number) => Promise<Map<string, Uint8Array>> | Map<string, Uint8Array> };
  const bytes = new Uint8Array(await readFile(file));
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const t = performance.now();
  let outcome: string;
  try {
    const files = await unpackArchive(bytes, LIMIT);
    outcome = `accepted ${files.size} files`;
  } catch (e) {
    const err = e as { status?: number; errorType?: string; message?: string };
    outcome = `${err.status ?? '-'} ${err.errorType ?? ''} ${err.message ?? String(e)}`.trim();
  }
  const ms = performance.now() - t;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ms: Math.round(ms), addedMiB: Math.max(0, Math.round((peak - before) / 2 ** 20)), packedKiB: Math.round(bytes.length / 1024), outcome }));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-bombs-'));
  const rows: Record<string, unknown>[] = [];
  for (const [name, c] of Object.entries(CASES)) {
    const file = join(dir, name);
    await writeFile(file, await c.build());
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', file, impl], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (run.status !== 0) throw new Error(`${name}: ${run.stderr}`);
    rows.push({ case: name, what: c.what, ...JSON.parse(run.stdout) });
  }
  await rm(dir, { recursive: true, force: true });
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else console.table(rows);
}

const option = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const impl = option('--impl') ?? fileURLToPath(new URL('../../src/services/archive.ts', import.meta.url));
const childFile = option('--child');
await (childFile ? child(childFile, process.argv.at(-1)!) : main());
