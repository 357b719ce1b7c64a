import { Gunzip, Inflate, type FlateError } from 'fflate';
import { ApiError } from '../errors.js';
import { invalidArchive } from './archive-limits.js';

/*
 * Inflation that can be stopped: fflate's streaming inflaters give everything one push makes
 * at once, so the input is pushed in slices sized to make about OUT_TARGET bytes each (from the
 * last slice's ratio). A running count then sees a bomb after a megabyte or so, not a gigabyte;
 * one push can make at most ~1032 times its slice, so MAX_SLICE bounds the worst burst (~33 MiB).
 */
const OUT_TARGET = 1024 * 1024;
const FIRST_SLICE = 4 * 1024;
const MIN_SLICE = 1024;
const MAX_SLICE = 32 * 1024;

interface Pushable {
  push(chunk: Uint8Array, final?: boolean): void;
}

const EMPTY = new Uint8Array(0);

/** Pushes input into an inflater one slice at a time, each sized from the ratio of the last. */
class Slicer {
  private slice = FIRST_SLICE;
  private made = 0;

  constructor(
    private readonly inflater: Pushable,
    private readonly what: string,
  ) {}

  /** Counts output as the inflater hands it over. */
  out(bytes: number): void {
    this.made += bytes;
  }

  /** Pushes the slice of `input` starting at `at`; answers where the next one starts. */
  push(input: Uint8Array, at: number): number {
    const piece = input.subarray(at, at + this.slice);
    this.made = 0;
    this.send(piece, false);
    this.slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.floor(OUT_TARGET / Math.max(this.made / piece.length, 1))));
    return at + piece.length;
  }

  /** The end of the input: the inflater checks the stream is complete. */
  end(): void {
    this.send(EMPTY, true);
  }

  private send(piece: Uint8Array, final: boolean): void {
    try {
      this.inflater.push(piece, final);
    } catch (e) {
      throw e instanceof ApiError ? e : inflateError(e, this.what);
    }
  }
}

/** fflate's error as an INVALID_ARCHIVE: "truncated" when the stream ends early, else "corrupt". */
export function inflateError(e: unknown, what: string) {
  const truncated = (e as Partial<FlateError>).code === 0;
  return invalidArchive(truncated ? `The archive is truncated: its ${what} stream ends early` : `The archive is corrupt: its ${what} stream cannot be inflated`, undefined, e);
}

/**
 * Inflates a gzip stream as it arrives (single or multi-member), in pieces of about a megabyte.
 * A single-member stream's CRC-32 and length (its trailer) are checked at the end.
 */
export async function* gunzip(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let crc = CRC_INIT;
  let length = 0;
  let members = 1;
  const tail = new Uint8Array(8);
  let seen = 0;
  const inflater = new Gunzip((data) => {
    out.push(data);
    slicer.out(data.length);
  });
  inflater.onmember = () => void members++;
  const slicer = new Slicer(inflater, 'gzip');
  const drain = function* () {
    for (const data of out.splice(0)) {
      crc = crc32(data, crc);
      length += data.length;
      yield data;
    }
  };
  const keepTail = (chunk: Uint8Array) => {
    const keep = chunk.subarray(-8);
    tail.copyWithin(0, keep.length);
    tail.set(keep, 8 - keep.length);
    seen += chunk.length;
  };
  for await (const chunk of chunks) {
    keepTail(chunk);
    for (let at = 0; at < chunk.length; ) {
      at = slicer.push(chunk, at);
      yield* drain();
    }
  }
  slicer.end();
  yield* drain();
  if (members === 1 && seen >= 18) {
    const view = new DataView(tail.buffer);
    if (view.getUint32(0, true) !== crc32Final(crc) || view.getUint32(4, true) !== length % 2 ** 32) {
      throw invalidArchive('The archive is truncated or corrupt: its gzip checksum does not match what it holds', 'the gzip CRC-32 or length does not match the inflated bytes: the file was cut short or damaged');
    }
  }
}

/**
 * Inflates one raw-deflate stream (a zip entry) into exactly `size` bytes: stops as soon as it
 * would make more (the entry holds more than it declares) and refuses fewer.
 */
export function inflateExactly(data: Uint8Array, size: number, name: string): Uint8Array {
  const into = new Uint8Array(size);
  let at = 0;
  const inflater = new Inflate((chunk) => {
    slicer.out(chunk.length);
    if (at + chunk.length > size) throw holdsMore(name, size);
    into.set(chunk, at);
    at += chunk.length;
  });
  const slicer = new Slicer(inflater, `"${name}" deflate`);
  for (let at = 0; at < data.length; ) at = slicer.push(data, at);
  slicer.end();
  if (at !== size) throw invalidArchive(`The archive is corrupt: "${name}" unpacks to ${at} bytes where the zip declares ${size}`);
  return into;
}

const holdsMore = (name: string, size: number) =>
  invalidArchive(`The archive is corrupt: "${name}" unpacks to more than the ${size} bytes the zip declares`, `"${name}" holds more than its declared size of ${size} bytes: the zip's central directory does not describe its contents`);

// CRC-32 (ISO-HDLC, as gzip and zip use it), slicing by 4: runtime-free, ~1 GB/s.
const CRC_INIT = 0xffffffff;
const TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 4; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
})();

/** Folds `data` into a running CRC (start from CRC_INIT, finish with crc32Final). */
export function crc32(data: Uint8Array, crc = CRC_INIT): number {
  const t = TABLES;
  let c = crc | 0;
  let i = 0;
  for (const end = data.length - 3; i < end; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

export const crc32Final = (crc: number): number => (crc ^ CRC_INIT) >>> 0;
