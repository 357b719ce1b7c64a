import { gunzipSync, gzipSync, unzipSync } from 'fflate';
import { ApiError } from '../errors.js';

/** Files of a generation by relative path ("manifest.json", "models/m.onnx"). */
export type FileSet = Map<string, Uint8Array>;

const bad = (message: string) => ApiError.badRequest('INVALID_ARCHIVE', message);

/**
 * Unpacks a generation archive: tar.gz (or plain tar) or zip. A single top-level folder
 * wrapping everything (as `tar czf v3.tar.gz v3/` makes) is stripped.
 */
export function unpackArchive(bytes: Uint8Array, maxBytes: number): FileSet {
  let files: FileSet;
  try {
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) files = readTar(gunzipSync(bytes), maxBytes);
    else if (bytes[0] === 0x50 && bytes[1] === 0x4b) files = new Map(Object.entries(unzipSync(bytes)).filter(([p]) => !p.endsWith('/')));
    else if (bytes.length >= 512 && ustarMagic(bytes, 0)) files = readTar(bytes, maxBytes);
    else throw bad('The archive is not a tar.gz, tar or zip file');
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw bad(`The archive cannot be read: ${(e as Error).message}`);
  }
  return stripTopFolder(files);
}

function ustarMagic(b: Uint8Array, at: number): boolean {
  return String.fromCharCode(...b.subarray(at + 257, at + 262)) === 'ustar';
}

function readTar(tar: Uint8Array, maxBytes: number): FileSet {
  const files: FileSet = new Map();
  const text = (from: number, len: number) => new TextDecoder().decode(tar.subarray(from, from + len)).replace(/\0.*$/s, '');
  let total = 0;
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[at + 156] ?? 0);
    const prefix = ustarMagic(tar, at) ? text(at + 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(at, 100)}` : text(at, 100));
    longName = undefined;
    const body = tar.subarray(at + 512, at + 512 + size);
    if (body.length !== size) throw bad(`The archive is truncated inside "${name}"`);
    if (type === 'L') longName = new TextDecoder().decode(body).replace(/\0.*$/s, '');
    else if (type === '0' || type === '\0') {
      total += size;
      if (total > maxBytes) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `The archive unpacks to more than ${maxBytes} bytes`);
      files.set(name.replace(/^\.\//, ''), body.slice());
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function stripTopFolder(files: FileSet): FileSet {
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0]));
  const [top] = tops;
  if (tops.size !== 1 || files.has('manifest.json') || top === undefined || ![...files.keys()].every((p) => p.startsWith(`${top}/`))) return files;
  return new Map([...files].map(([p, b]) => [p.slice(top.length + 1), b]));
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
  const tar = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) tar.set(p, (at += p.length) - p.length);
  return gzipSync(tar, { mtime: 0 });
}
