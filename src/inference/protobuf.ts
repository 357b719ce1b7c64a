/**
 * Minimal protobuf wire-format reader/writer for surgical edits of large messages (ONNX models),
 * and for building small ones from scratch (the demo build's ONNX exporter).
 *
 * A message is parsed into a flat list of raw fields that remember their byte range, so a
 * caller can rewrite a few fields and copy everything else verbatim as `subarray` slices:
 * multi-megabyte initializers are never decoded. Runtime-free on purpose (Workers, browsers,
 * Node): only Uint8Array, DataView, TextEncoder/TextDecoder and BigInt.
 */

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface RawField {
  field: number;
  wireType: WireType;
  /** Payload bytes (a view, not a copy): the varint bytes, the 4/8 fixed bytes, or the LEN contents. */
  bytes: Uint8Array;
  /** Decoded unsigned value, only for VARINT (bigint: int64 ids and labels exceed 2^53). */
  value?: bigint;
  /** Offset of the tag in the parsed buffer. */
  start: number;
  /** Offset one past the field's last byte; `buf.subarray(start, end)` re-emits the field verbatim. */
  end: number;
}

export class ProtobufError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`malformed protobuf at byte ${offset}: ${message}`);
    this.name = 'ProtobufError';
  }
}

// A 64-bit varint never needs more than 10 bytes; bounding the loop is what makes garbage fail fast.
const MAX_VARINT_BYTES = 10;

export function readVarint(buf: Uint8Array, pos: number, limit = buf.length): { value: bigint; next: number } {
  let value = 0n;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos + i >= limit) throw new ProtobufError('truncated varint', pos);
    const b = buf[pos + i] ?? 0;
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return { value: BigInt.asUintN(64, value), next: pos + i + 1 };
  }
  throw new ProtobufError('varint longer than 10 bytes', pos);
}

/** Varint as a JS number, for tags and lengths, which must be exact to index the buffer. */
export function readVarintNumber(buf: Uint8Array, pos: number, limit = buf.length): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos + i >= limit) throw new ProtobufError('truncated varint', pos);
    const b = buf[pos + i] ?? 0;
    value += (b & 0x7f) * 2 ** (7 * i); // multiplication, not <<, which would wrap at 2^31
    if (b < 0x80) {
      if (!Number.isSafeInteger(value)) throw new ProtobufError('varint too large for a length or tag', pos);
      return { value, next: pos + i + 1 };
    }
  }
  throw new ProtobufError('varint longer than 10 bytes', pos);
}

/** Parses the top level of one message. Nested messages stay opaque until the caller parses `bytes`. */
export function parseMessage(buf: Uint8Array): RawField[] {
  const fields: RawField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const tag = readVarintNumber(buf, pos);
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (field === 0 || field > 0x1fffffff) throw new ProtobufError(`invalid field number ${field}`, start);
    let bytes: Uint8Array;
    let value: bigint | undefined;
    switch (wireType) {
      case WireType.VARINT: {
        const v = readVarint(buf, pos);
        value = v.value;
        bytes = buf.subarray(pos, v.next);
        pos = v.next;
        break;
      }
      case WireType.I64:
      case WireType.I32: {
        const size = wireType === WireType.I64 ? 8 : 4;
        if (pos + size > buf.length) throw new ProtobufError(`truncated fixed${size * 8} field ${field}`, start);
        bytes = buf.subarray(pos, pos + size);
        pos += size;
        break;
      }
      case WireType.LEN: {
        const len = readVarintNumber(buf, pos);
        if (len.next + len.value > buf.length) {
          throw new ProtobufError(`field ${field} claims ${len.value} bytes, only ${buf.length - len.next} left`, start);
        }
        bytes = buf.subarray(len.next, len.next + len.value);
        pos = len.next + len.value;
        break;
      }
      default: // groups (3, 4) are deprecated and unused by ONNX; 6 and 7 do not exist
        throw new ProtobufError(`unsupported wire type ${wireType} for field ${field}`, start);
    }
    const raw: RawField = { field, wireType, bytes, start, end: pos };
    if (value !== undefined) raw.value = value;
    fields.push(raw);
  }
  return fields;
}

/** Unpacks a repeated varint field that may be packed (proto3 default) or not (proto2 default). */
export function repeatedVarints(fields: readonly RawField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wireType === WireType.VARINT && f.value !== undefined) {
      out.push(f.value);
    } else if (f.wireType === WireType.LEN) {
      for (let p = 0; p < f.bytes.length; ) {
        const v = readVarint(f.bytes, p);
        out.push(v.value);
        p = v.next;
      }
    } else {
      throw new ProtobufError(`field ${field} has wire type ${f.wireType}, expected varint`, f.start);
    }
  }
  return out;
}

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

export function decodeString(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Last occurrence wins for a non-repeated field, as in protobuf's merge semantics. */
export function stringField(fields: readonly RawField[], field: number): string | undefined {
  let out: string | undefined;
  for (const f of fields) if (f.field === field && f.wireType === WireType.LEN) out = decodeString(f.bytes);
  return out;
}

export function stringFields(fields: readonly RawField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.wireType === WireType.LEN).map((f) => decodeString(f.bytes));
}

export function readFixed32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

export function readFixed64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

// ---- writer ----

/** Encodes an unsigned or two's-complement int64 value (negatives take 10 bytes, as in protobuf). */
export function encodeVarint(input: number | bigint): Uint8Array {
  if (typeof input === 'number' && !Number.isSafeInteger(input)) throw new RangeError(`not a safe integer: ${input}`);
  let v = BigInt.asUintN(64, BigInt(input));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export function encodeTag(field: number, wireType: WireType): Uint8Array {
  return encodeVarint(field * 8 + wireType);
}

export function encodeFixed32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

/** Little-endian IEEE-754 single precision, the payload of a `float` field and of packed `repeated float`. */
export function encodeFloat32s(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

export function encodeFixed64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Tag + length prefix for a LEN field; callers push it before the payload parts to avoid copies. */
export function lenHeader(field: number, length: number): Uint8Array {
  return concatBytes([encodeTag(field, WireType.LEN), encodeVarint(length)]);
}

export function encodeLenField(field: number, payload: Uint8Array): Uint8Array {
  return concatBytes([lenHeader(field, payload.length), payload]);
}

export function encodeStringField(field: number, value: string): Uint8Array {
  return encodeLenField(field, encoder.encode(value));
}

export function encodeVarintField(field: number, value: number | bigint): Uint8Array {
  return concatBytes([encodeTag(field, WireType.VARINT), encodeVarint(value)]);
}

export function encodeFloatField(field: number, value: number): Uint8Array {
  return concatBytes([encodeTag(field, WireType.I32), encodeFloat32s([value])]);
}

/** A nested message from its already encoded fields, in the order given (so output is deterministic). */
export function encodeMessageField(field: number, parts: readonly Uint8Array[]): Uint8Array {
  return encodeLenField(field, concatBytes(parts));
}

/** Packed `repeated` varints (int32/int64/enum): one LEN field holding the varints back to back. */
export function encodePackedVarintsField(field: number, values: readonly (number | bigint)[]): Uint8Array {
  return encodeMessageField(field, values.map((v) => encodeVarint(v)));
}

export function encodePackedFloatsField(field: number, values: readonly number[]): Uint8Array {
  return encodeLenField(field, encodeFloat32s(values));
}
