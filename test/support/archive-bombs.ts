import { gzipSync } from 'fflate';

/** Hostile and damaged archives for the archive tests, built without holding their payloads. */

export const MiB = 1024 * 1024;
const enc = (s: string) => new TextEncoder().encode(s);

/** `size` zeros after `prefix`, gzipped: 1 MiB members after the first, each ~1 KB, all the same. */
export function gzipZeros(size: number, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const member = gzipSync(new Uint8Array(MiB), { level: 9 });
  const members = [gzipSync(prefix, { level: 9 })];
  for (let left = size; left > 0; left -= MiB) members.push(member);
  return Buffer.concat(members);
}

/** A ustar header alone: what a tar of a file too large to build starts with. */
export function ustarHeader(name: string, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number) => h.set(enc(s), at);
  put(name, 0);
  for (const at of [100, 108, 116]) put('0000644\0', at);
  put(size.toString(8).padStart(11, '0') + '\0', 124);
  put('00000000000\0', 136);
  put('0', 156);
  put('ustar\u000000', 257);
  put('        ', 148);
  put(h.reduce((a, b) => a + b, 0).toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A tar.gz whose one file is `size` zeros: its header says so, the limit is met there. */
export const tarGzBomb = (name: string, size: number) => gzipZeros(size, ustarHeader(name, size));

/** Bytes that do not compress (a model's weights, say). */
export function noise(n: number): Uint8Array {
  let s = 1;
  return new Uint8Array(n).map(() => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
}

/** Rewrites one entry of a zip (no comment) in both its central directory record and its local header. */
export function patchZip(zip: Uint8Array, name: string, patch: { size?: number; rename?: string }): Uint8Array {
  const z = zip.slice();
  const v = new DataView(z.buffer);
  const eocd = z.length - 22;
  for (let at = v.getUint32(eocd + 16, true), i = 0; i < v.getUint16(eocd + 10, true); i++) {
    const n = v.getUint16(at + 28, true);
    if (new TextDecoder().decode(z.subarray(at + 46, at + 46 + n)) === name) {
      const local = v.getUint32(at + 42, true);
      if (patch.size !== undefined) {
        v.setUint32(at + 24, patch.size, true);
        v.setUint32(local + 22, patch.size, true);
      }
      if (patch.rename !== undefined) {
        z.set(enc(patch.rename), at + 46);
        z.set(enc(patch.rename), local + 30);
      }
    }
    at += 46 + n + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  return z;
}
