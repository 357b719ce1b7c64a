import { gzipSync } from 'fflate';
import { gunzip } from './archive-inflate.js';
import { ArchiveEntries, archiveTooLarge, invalidArchive, limitsOf, stripTopFolder, type ArchiveLimits, type FileSet } from './archive-limits.js';
import { isTar, readTar } from './archive-tar.js';
import { isZip, readZip } from './archive-zip.js';

export { importLimits, limitsOf, type ArchiveLimits, type FileSet } from './archive-limits.js';

/**
 * An archive's bytes: in memory (an object read from the bucket), a Web stream (a request body,
 * on every runtime) or any async iterable of chunks (a file on Node).
 */
export type ArchiveInput = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Unpacks a generation archive: tar.gz, plain tar or zip, told apart by their first bytes. A tar
 * and a tar.gz are read as they arrive, a zip once it has (its directory is at its end); every
 * limit is a running count checked before the bytes it counts are inflated or kept, so a bomb
 * costs megabytes and milliseconds (test/bench/archive-bombs.ts). A single top-level folder
 * wrapping everything (as `tar czf v3.tar.gz v3/` makes) is stripped. Every refusal is an
 * ApiError: 413 PAYLOAD_TOO_LARGE naming the limit, or 400 INVALID_ARCHIVE saying what is wrong
 * (a library's own message only in its `cause`, for the log).
 *
 * `limits` as one number caps the archive, its contents and each file alike (the CLI's use).
 */
export async function unpackArchive(input: ArchiveInput, limits: ArchiveLimits | number): Promise<FileSet> {
  const entries = new ArchiveEntries(typeof limits === 'number' ? limitsOf(limits) : limits);
  const source = capped(input, entries.limits.maxArchiveBytes);
  try {
    const { head, rest } = await peek(source, 512);
    if (head.length === 0) throw invalidArchive('The archive is empty', 'send a generation archive (tar.gz, tar or zip) as the body');
    if (head[0] === 0x1f && head[1] === 0x8b) {
      const tar = await peek(gunzip(rest), 512);
      if (!isTar(tar.head)) throw invalidArchive('The gzip file holds no tar archive', 'a generation archive is a tar.gz, a tar or a zip of the generation folder');
      await readTar(tar.rest, entries, 'tar.gz');
    } else if (isZip(head)) readZip(await collect(rest), entries);
    else if (isTar(head)) await readTar(rest, entries, 'tar');
    else throw invalidArchive('The archive is not a tar.gz, tar or zip file', 'a generation archive is a tar.gz, a tar or a zip of the generation folder');
  } finally {
    // Releases the input at once, or after its pending read when a failure left one in flight.
    source.return(undefined).catch(() => undefined);
  }
  return stripTopFolder(entries.files);
}

/** The input's chunks, refused (413) as soon as they add up to more than maxBytes. */
async function* capped(input: ArchiveInput, maxBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  if (input instanceof Uint8Array) {
    if (input.length > maxBytes) throw archiveTooLarge(maxBytes);
    yield input;
    return;
  }
  let total = 0;
  for await (const chunk of 'getReader' in input ? chunksOf(input) : input) {
    total += chunk.length;
    if (total > maxBytes) throw archiveTooLarge(maxBytes);
    if (chunk.length) yield chunk;
  }
}

async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Not cancelled: the runtime drains (or closes) an unread request body after the answer;
    // cancelling it first may reset the connection before the client reads why.
    reader.releaseLock();
  }
}

/** The first `n` bytes or more (fewer only at the end), and the whole stream again from its start. */
async function peek(stream: AsyncIterator<Uint8Array>, n: number): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const taken: Uint8Array[] = [];
  let size = 0;
  while (size < n) {
    const next = await stream.next();
    if (next.done) break;
    taken.push(next.value);
    size += next.value.length;
  }
  const rest = async function* () {
    try {
      yield* taken.splice(0);
      for (let next = await stream.next(); !next.done; next = await stream.next()) yield next.value;
    } finally {
      await stream.return?.(undefined);
    }
  };
  return { head: concat(taken, size), rest: rest() };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, size);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, (at += c.length) - c.length);
  return all;
}

/** A ustar tar.gz of the files, in path order (deterministic: fixed mtime and modes). */
export function packTarGz(files: FileSet): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [path, body] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const header = new Uint8Array(512);
    const put = (s: string, at: number, len: number) => header.set(enc.encode(s).subarray(0, len), at);
    const name = enc.encode(path);
    if (name.length > 100) {
      const cut = path.lastIndexOf('/', 154);
      if (cut <= 0 || enc.encode(path.slice(cut + 1)).length > 100) throw new Error(`path too long for a tar archive: ${path}`);
      put(path.slice(cut + 1), 0, 100);
      put(path.slice(0, cut), 345, 155);
    } else put(path, 0, 100);
    put('0000644\0', 100, 8);
    put('0000000\0', 108, 8);
    put('0000000\0', 116, 8);
    put(body.length.toString(8).padStart(11, '0') + '\0', 124, 12);
    put('00000000000\0', 136, 12);
    put('0', 156, 1);
    put('ustar\0' + '00', 257, 8);
    put('        ', 148, 8);
    const sum = header.reduce((a, b) => a + b, 0);
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
    parts.push(header, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return gzipSync(concat(parts, parts.reduce((n, p) => n + p.length, 0)), { mtime: 0 });
}
