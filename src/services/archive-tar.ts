import { createTarDecoder, type TarHeader } from 'modern-tar';
import { ApiError } from '../errors.js';
import { invalidArchive, type ArchiveEntries } from './archive-limits.js';

/** Largest piece written to the decoder at once: the lag check below is this fine-grained. */
const PIECE = 1024 * 1024;
/**
 * Bytes the decoder may swallow without handing them out as file contents: headers, padding,
 * pax records (modern-tar caps one at 8 MiB) and its own read-ahead (1 MiB), plus a little per
 * entry. A stream past that is data no file holds, such as a gigabyte of zeros after the
 * end-of-archive blocks: stopped here after megabytes, not inflated to the end.
 */
const SLACK = 16 * 1024 * 1024;
const SLACK_PER_ENTRY = 8 * 1024;

/**
 * Reads a tar stream (inflated already, for a tar.gz) with modern-tar's streaming decoder in
 * strict mode (header checksums, truncation, non-zero data after the end are errors; pax and
 * GNU long names are applied). Each entry is checked from its header, before its body is read;
 * a file's body goes straight into a buffer of its declared size.
 */
export async function readTar(stream: AsyncIterable<Uint8Array>, entries: ArchiveEntries, what: 'tar' | 'tar.gz'): Promise<void> {
  const decoder = createTarDecoder({ strict: true });
  const writer = decoder.writable.getWriter();
  const reader = decoder.readable.getReader();
  let failure: unknown;
  let written = 0;
  let delivered = 0;
  let headers = 0;

  // Producer: the stream into the decoder, awaiting its backpressure.
  const feeding = (async () => {
    try {
      for await (const chunk of stream) {
        for (let at = 0; at < chunk.length; at += PIECE) {
          if (failure !== undefined) return;
          const piece = chunk.subarray(at, at + PIECE);
          written += piece.length;
          if (written - delivered > SLACK + SLACK_PER_ENTRY * headers) throw unclaimed(what);
          await writer.write(piece);
        }
      }
      await writer.close();
    } catch (e) {
      failure ??= e;
      await writer.abort(e).catch(() => undefined);
    }
  })();

  // Consumer: each entry checked from its header, then its body read.
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      headers++;
      const { header, body } = value;
      const path = accept(header, entries);
      if (path === undefined) {
        await body.cancel();
        continue;
      }
      const bytes = new Uint8Array(header.size);
      let at = 0;
      const chunks = body.getReader();
      for (;;) {
        const next = await chunks.read();
        if (next.done) break;
        if (at + next.value.length > bytes.length) throw invalidArchive(`The archive is corrupt: "${path}" holds more than its header says`);
        bytes.set(next.value, at);
        at += next.value.length;
        delivered += next.value.length;
      }
      if (at !== bytes.length) throw invalidArchive(`The archive is truncated inside "${path}"`);
      entries.put(path, bytes);
    }
  } catch (e) {
    failure ??= e;
    void reader.cancel(e).catch(() => undefined);
  }
  // On success the producer has closed the decoder; on a failure it stops at its next chunk,
  // which a stalled upload must not hold this answer for.
  if (failure === undefined) await feeding;
  if (failure !== undefined) throw failure instanceof ApiError ? failure : tarError(failure, what);
}

/** A file entry's path (its body is read next), or undefined for a folder; refuses the rest. */
function accept(header: TarHeader, entries: ArchiveEntries): string | undefined {
  switch (header.type ?? 'file') {
    case 'file':
      return entries.file(header.name, header.size);
    case 'directory':
      entries.folderEntry(header.name);
      return undefined;
    case 'symlink':
      return entries.refuse(header.name, 'symlink');
    case 'link':
      return entries.refuse(header.name, 'hardlink');
    default:
      return entries.refuse(header.name, 'special');
  }
}

/** "ustar" at offset 257 of the first header (POSIX and GNU tar both write it); `head` is its first 512 bytes or more. */
export function isTar(head: Uint8Array): boolean {
  return head.length >= 512 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

const unclaimed = (what: string) =>
  invalidArchive(
    `The archive is corrupt: it holds more than ${SLACK / 1024 / 1024} MiB that belong to no file`,
    `the ${what} stream goes on after its end-of-archive blocks, or between entries, with data no file holds (a decompression bomb looks like this)`,
  );

function tarError(e: unknown, what: string) {
  const truncated = e instanceof Error && /truncat/i.test(e.message);
  return invalidArchive(truncated ? `The archive is truncated: its ${what} stream ends inside an entry` : `The archive is corrupt: its ${what} structure cannot be read`, undefined, e);
}
