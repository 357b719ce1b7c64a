import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { packTarGz, unpackArchive, type FileSet } from '@apinode/node/services/archive';
import { validateGeneration, type ValidatedGeneration } from '@apinode/node/services/generation-import';
import { UsageError } from './output.js';
import { modelRuntime } from './target.js';

/** A generation from a folder (manifest.json at its top) or an archive (tar.gz, zip). */
export async function readGeneration(path: string): Promise<FileSet> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new UsageError(`"${path}" does not exist`, 'give a generation folder (with manifest.json) or a .tar.gz / .zip archive');
  if (info.isFile()) return unpackArchive(await readFile(path), 2 * 1024 ** 3);
  const files: FileSet = new Map();
  for (const e of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    const full = join(e.parentPath, e.name);
    files.set(relative(path, full).split(sep).join('/'), await readFile(full));
  }
  return files;
}

/** Full validation, exactly as the node does it on import (schema, models load, examples score). */
export function validate(files: FileSet): Promise<ValidatedGeneration> {
  return validateGeneration(files, modelRuntime());
}

export const pack = packTarGz;

/** The archive as a stream of chunks, reporting progress as the upload reads it. */
export function uploadStream(bytes: Uint8Array, progress: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  const CHUNK = 64 * 1024;
  let sent = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (sent >= bytes.length) return ctrl.close();
      const chunk = bytes.subarray(sent, sent + CHUNK);
      sent += chunk.length;
      ctrl.enqueue(chunk);
      progress(sent, bytes.length);
    },
  });
}

/** A progress bar on stderr when it is a terminal; silent otherwise (logs, CI). */
export function progressBar(label: string): (sent: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  return (sent, total) => {
    const width = 30;
    const done = Math.round((sent / total) * width);
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    process.stderr.write(`\r${label} [${'#'.repeat(done)}${'-'.repeat(width - done)}] ${Math.round((100 * sent) / total)}% ${mb(sent)}/${mb(total)} MB`);
    if (sent >= total) process.stderr.write('\n');
  };
}
