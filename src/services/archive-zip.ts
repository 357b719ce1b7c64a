import { crc32, crc32Final, inflateExactly } from './archive-inflate.js';
import { invalidArchive, type ArchiveEntries } from './archive-limits.js';

/*
 * A zip is read from its central directory, the one list of entries every unzip tool agrees on
 * (a reader streaming local headers cannot delimit an entry whose sizes follow its data, and
 * sees entries the directory leaves out). The whole directory is checked against the limits,
 * the path rules and the local headers before a byte is inflated; then each entry is inflated
 * into exactly its declared size (fflate's streaming Inflate, stopped the moment it would make
 * more) and its CRC-32 compared.
 */

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, end64: 0x06064b50, locator64: 0x07064b50 };
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;
const S_IFMT = 0o170000;
const UNIX_HOSTS = new Set([3, 19]); // "version made by": Unix, OS X
type Kind = 'file' | 'folder' | 'symlink' | 'special';

interface CentralEntry {
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly size: number;
  readonly packed: number;
  readonly offset: number;
  readonly kind: Kind;
  readonly next: number;
}

/** "PK\3\4" (a first entry) or "PK\5\6" (an empty zip). */
export function isZip(head: Uint8Array): boolean {
  return head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

export function readZip(zip: Uint8Array, entries: ArchiveEntries): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const dir = directory(view);
  entries.expectEntries(dir.count);
  const files: (CentralEntry & { path: string; dataStart: number })[] = [];
  for (let at = dir.start, i = 0; i < dir.count; i++) {
    const e = centralEntry(view, zip, at, dir.end);
    at = e.next;
    if (e.kind === 'folder') {
      entries.folderEntry(e.name);
      continue;
    }
    if (e.kind !== 'file') entries.refuse(e.name, e.kind);
    const path = entries.file(e.name, e.size);
    if (e.flags & 0x41) throw invalidArchive(`"${e.name}" is encrypted in the zip`, `"${e.name}" is encrypted: zip the generation without a password`);
    if (e.method !== 0 && e.method !== 8) throw invalidArchive(`"${e.name}" is compressed with zip method ${e.method}`, `"${e.name}" uses zip compression method ${e.method}: only deflate (8) and store (0) are read`);
    files.push({ ...e, path, dataStart: localData(view, zip, e, dir.start) });
  }
  checkNoOverlap(files.map((f) => [f.offset, f.dataStart + f.packed]));
  // Only now, with every entry accepted, is anything inflated.
  for (const f of files) entries.put(f.path, contents(zip, f));
}

/** Where the central directory is and how many entries it lists (zip64 included). */
function directory(view: DataView): { count: number; start: number; end: number } {
  const length = view.byteLength;
  let eocd = -1;
  for (let i = length - 22; i >= Math.max(0, length - 22 - MAX16); i--) {
    if (view.getUint32(i, true) === SIG.end && i + 22 + view.getUint16(i + 20, true) === length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw invalidArchive('The archive is truncated or corrupt: the zip has no end-of-central-directory record');
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) throw invalidArchive('The zip spans several files (a split or multi-disk zip)', 'make one zip file of the generation');
  let count = view.getUint16(eocd + 10, true);
  let size = view.getUint32(eocd + 12, true);
  let start = view.getUint32(eocd + 16, true);
  let end = eocd;
  if (count === MAX16 || size === MAX32 || start === MAX32) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== SIG.locator64) throw corrupt('its zip64 end record is missing');
    const record = u64(view, locator + 8);
    if (record + 56 > locator || view.getUint32(record, true) !== SIG.end64) throw corrupt('its zip64 end record is missing');
    [count, size, start, end] = [u64(view, record + 32), u64(view, record + 40), u64(view, record + 48), record];
  }
  if (start + size > end) throw corrupt('its central directory lies outside the file');
  // Each entry takes at least 46 bytes of directory: a larger count is a lie, not a limit.
  if (count > size / 46) throw corrupt('its central directory is shorter than the entry count it declares');
  return { count, start, end: start + size };
}

function centralEntry(view: DataView, zip: Uint8Array, at: number, end: number): CentralEntry {
  if (at + 46 > end || view.getUint32(at, true) !== SIG.central) throw corrupt('its central directory is damaged');
  const nameLength = view.getUint16(at + 28, true);
  const extraLength = view.getUint16(at + 30, true);
  const next = at + 46 + nameLength + extraLength + view.getUint16(at + 32, true);
  if (next > end) throw corrupt('its central directory is damaged');
  const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
  const name = decodeName(nameBytes);
  const sizes = zip64Sizes(view, at + 46 + nameLength, extraLength, { size: view.getUint32(at + 24, true), packed: view.getUint32(at + 20, true), offset: view.getUint32(at + 42, true) });
  const kind = kindOf(view.getUint16(at + 4, true) >>> 8, view.getUint32(at + 38, true) >>> 16, name);
  return { name, nameBytes, flags: view.getUint16(at + 8, true), method: view.getUint16(at + 10, true), crc: view.getUint32(at + 16, true), ...sizes, kind, next };
}

/** The zip64 extra field (0x0001) holds, in this order, each size or offset set to 0xFFFFFFFF. */
function zip64Sizes(view: DataView, at: number, length: number, sizes: { size: number; packed: number; offset: number }): typeof sizes {
  const out = { ...sizes };
  for (let p = at; p + 4 <= at + length; ) {
    const id = view.getUint16(p, true);
    const fieldLength = view.getUint16(p + 2, true);
    if (id === 1) {
      let q = p + 4;
      for (const key of ['size', 'packed', 'offset'] as const) {
        if (sizes[key] !== MAX32) continue;
        if (q + 8 > p + 4 + fieldLength) throw corrupt('a zip64 size is missing');
        out[key] = u64(view, q);
        q += 8;
      }
    }
    p += 4 + fieldLength;
  }
  return out;
}

/** What an entry is: the Unix mode when a Unix tool made the zip, else a trailing "/" means a folder. */
function kindOf(host: number, mode: number, name: string): Kind {
  const type = mode & S_IFMT;
  if (UNIX_HOSTS.has(host) && type !== 0) {
    if (type === 0o120000) return 'symlink';
    if (type === 0o040000) return 'folder';
    if (type !== 0o100000) return 'special';
  }
  return name.endsWith('/') ? 'folder' : 'file';
}

/** Where an entry's data starts, after its local header, which must name it as the directory does. */
function localData(view: DataView, zip: Uint8Array, e: CentralEntry, dirStart: number): number {
  const at = e.offset;
  if (at + 30 > dirStart || view.getUint32(at, true) !== SIG.local) throw corrupt(`the local header of "${e.name}" is missing`);
  const nameLength = view.getUint16(at + 26, true);
  const local = zip.subarray(at + 30, at + 30 + nameLength);
  if (local.length !== e.nameBytes.length || local.some((b, i) => b !== e.nameBytes[i])) {
    throw corrupt(`its central directory and local header name "${e.name}" differently`);
  }
  const start = at + 30 + nameLength + view.getUint16(at + 28, true);
  if (start + e.packed > dirStart) throw corrupt(`"${e.name}" runs past the end of the zip's data`);
  return start;
}

/** Entries sharing bytes are how the densest zip bombs repeat one payload: refused. */
function checkNoOverlap(ranges: [number, number][]): void {
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) throw corrupt('two of its entries share the same bytes');
  }
}

function contents(zip: Uint8Array, f: CentralEntry & { dataStart: number }): Uint8Array {
  const data = zip.subarray(f.dataStart, f.dataStart + f.packed);
  let bytes: Uint8Array;
  if (f.method === 0) {
    if (f.packed !== f.size) throw corrupt(`"${f.name}" is stored in ${f.packed} bytes but declares ${f.size}`);
    bytes = data.slice();
  } else bytes = inflateExactly(data, f.size, f.name);
  if (crc32Final(crc32(bytes)) !== f.crc) throw corrupt(`"${f.name}" fails its CRC-32 check`);
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decodeName(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidArchive('The zip has an entry whose name is not UTF-8', 'name the generation files in ASCII or UTF-8');
  }
}

function u64(view: DataView, at: number): number {
  if (at < 0 || at + 8 > view.byteLength) throw corrupt('a zip64 field lies outside the file');
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('a zip64 size is too large');
  return Number(v);
}

const corrupt = (why: string) => invalidArchive(`The archive is corrupt: ${why}`);
