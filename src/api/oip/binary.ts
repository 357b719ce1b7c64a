import type { OipDatatype } from '@apinode/protocol';
import { ApiError } from '../../errors.js';

/**
 * Triton's binary tensor data: little-endian, row-major, no padding; BOOL is one byte (0 or 1);
 * each BYTES element is a 4-byte unsigned length followed by that many bytes (UTF-8 here).
 */

/** An element as the node's records hold it: numbers (INT64 as a Number), booleans, strings. */
export type Element = number | boolean | string | null;

type Reader = (view: DataView, at: number) => number | boolean;
const FIXED: Partial<Record<OipDatatype, readonly [size: number, read: Reader]>> = {
  BOOL: [1, (v, at) => v.getUint8(at) !== 0],
  UINT8: [1, (v, at) => v.getUint8(at)],
  UINT16: [2, (v, at) => v.getUint16(at, true)],
  UINT32: [4, (v, at) => v.getUint32(at, true)],
  UINT64: [8, (v, at) => Number(v.getBigUint64(at, true))],
  INT8: [1, (v, at) => v.getInt8(at)],
  INT16: [2, (v, at) => v.getInt16(at, true)],
  INT32: [4, (v, at) => v.getInt32(at, true)],
  INT64: [8, (v, at) => Number(v.getBigInt64(at, true))],
  FP32: [4, (v, at) => v.getFloat32(at, true)],
  FP64: [8, (v, at) => v.getFloat64(at, true)],
};

const utf8 = new TextDecoder();

/** The `count` elements of one input tensor's binary data, which must be exactly `bytes`. */
export function readElements(datatype: OipDatatype, bytes: Uint8Array, count: number, input: string): Element[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string) => ApiError.badRequest('INVALID_REQUEST', `Input "${input}": ${why}`);
  if (datatype === 'BYTES') {
    const out: string[] = new Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.byteLength) throw bad(`its binary data ends inside element ${i} of ${count}`);
      const length = view.getUint32(at, true);
      at += 4;
      if (at + length > bytes.byteLength) throw bad(`element ${i} declares ${length} bytes, past the end of its binary data`);
      out[i] = utf8.decode(bytes.subarray(at, at + length));
      at += length;
    }
    if (at !== bytes.byteLength) throw bad(`binary_data_size is ${bytes.byteLength} bytes, its ${count} elements take ${at}`);
    return out;
  }
  const fixed = FIXED[datatype];
  if (!fixed) throw unsupported(datatype, input);
  const [size, read] = fixed;
  if (bytes.byteLength !== count * size) throw bad(`binary_data_size is ${bytes.byteLength} bytes, ${count} ${datatype} elements take ${count * size}`);
  const out: Element[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = read(view, i * size);
  return out;
}

export const unsupported = (datatype: string, input: string) =>
  ApiError.badRequest('INVALID_REQUEST', `Input "${input}" is ${datatype}, which this node does not read`, 'send BYTES for strings and BOOL, INT8..INT64, UINT8..UINT64, FP32 or FP64 for numbers');

const utf8Out = new TextEncoder();

/** An output tensor's binary data. Missing values are NaN (FP64), 0 (INT32) or the empty string (BYTES). */
export function writeElements(datatype: 'BYTES' | 'FP64' | 'INT32', values: readonly (string | number | null)[]): Uint8Array {
  if (datatype === 'BYTES') {
    const encoded = values.map((v) => utf8Out.encode(v === null ? '' : String(v)));
    const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const e of encoded) {
      view.setUint32(at, e.byteLength, true);
      out.set(e, at + 4);
      at += 4 + e.byteLength;
    }
    return out;
  }
  const size = datatype === 'FP64' ? 8 : 4;
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (datatype === 'FP64') view.setFloat64(i * size, typeof v === 'number' ? v : NaN, true);
    else view.setInt32(i * size, typeof v === 'number' ? v : 0, true);
  });
  return out;
}
