import type { OipInferRequest, OipRequestInput } from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import type { FeatureRecord } from '../../inference/encoding.js';
import { readElements, unsupported, type Element } from './binary.js';

const bad = (message: string, detail?: string) => ApiError.badRequest('INVALID_REQUEST', message, detail);

/** One input tensor, decoded: a feature's value in every row. */
interface Column {
  readonly name: string;
  readonly values: readonly Element[];
}

/**
 * The records an infer request describes: each input tensor is one feature, with one value per
 * row (shape [N] or [N, 1]); a feature without a tensor is missing in every row, and so is a
 * null (JSON) or NaN element. `accepted` lists the input names the model takes (null: any).
 */
export function recordsOf(request: OipInferRequest, binary: Uint8Array, accepted: ReadonlySet<string> | null, model: string): FeatureRecord[] {
  if (request.inputs.length === 0) throw bad(`The request has no inputs: send one tensor per feature of model "${model}"`);
  const columns = decode(request.inputs, binary);
  const rows = columns[0]!.values.length;
  for (const col of columns) {
    if (accepted && !accepted.has(col.name)) throw bad(`Model "${model}" has no input "${col.name}"; its inputs are ${[...accepted].join(', ')}`);
    if (col.values.length !== rows) throw bad(`Input "${col.name}" has ${col.values.length} rows and input "${columns[0]!.name}" ${rows}: send every input with one value per row`);
  }
  const records: Record<string, Element>[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const rec: Record<string, Element> = {};
    for (const col of columns) {
      const v = col.values[i]!;
      rec[col.name] = typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    records[i] = rec;
  }
  return records;
}

/** Each input's elements, from its JSON data or its slice of the binary data (in input order). */
function decode(inputs: readonly OipRequestInput[], binary: Uint8Array): Column[] {
  const seen = new Set<string>();
  let at = 0;
  const columns = inputs.map((input): Column => {
    if (seen.has(input.name)) throw bad(`Input "${input.name}" is sent twice`);
    seen.add(input.name);
    const rows = rowsOf(input);
    const size = input.parameters?.binary_data_size;
    if (size !== undefined) {
      if (input.data !== undefined) throw bad(`Input "${input.name}" has both data and binary_data_size: send one`);
      if (at + size > binary.byteLength) throw bad(`Input "${input.name}" declares ${size} bytes of binary data; ${binary.byteLength - at} remain after the JSON header and the inputs before it`);
      const values = readElements(input.datatype, binary.subarray(at, at + size), rows, input.name);
      at += size;
      return { name: input.name, values };
    }
    if (input.data === undefined) throw bad(`Input "${input.name}" has no data`, 'send "data", or binary data with a binary_data_size parameter');
    return { name: input.name, values: fromJson(input, input.data, rows) };
  });
  if (at !== binary.byteLength) {
    throw bad(`${binary.byteLength - at} bytes of binary data follow the inputs`, `the inputs' binary_data_size add up to ${at} bytes; check them and Inference-Header-Content-Length`);
  }
  return columns;
}

/** Rows of an input: one value per row, as [N] or [N, 1]. */
function rowsOf(input: OipRequestInput): number {
  const [rows, width, ...more] = input.shape;
  if (rows !== undefined && (width === undefined || (width === 1 && more.length === 0))) return rows;
  throw bad(`Input "${input.name}" has shape [${input.shape.join(', ')}]: send one value per row, shape [N] or [N, 1]`);
}

/** Datatypes whose JSON elements are numbers. */
const NUMERIC = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64']);

/** JSON data, flat or nested in the tensor's shape, checked against the datatype; null is a missing value. */
function fromJson(input: OipRequestInput, data: readonly unknown[], count: number): Element[] {
  const { datatype, name } = input;
  const want = datatype === 'BYTES' ? 'string' : datatype === 'BOOL' ? 'boolean' : NUMERIC.has(datatype) ? 'number' : null;
  if (want === null) throw unsupported(datatype, name);
  const flat = data.flat(Infinity);
  if (flat.length !== count) throw bad(`Input "${name}" has ${flat.length} elements for its shape [${input.shape.join(', ')}]`);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (v !== null && typeof v !== want) throw bad(`Element ${i} of input "${name}" is ${JSON.stringify(v)?.slice(0, 40)}, not a ${want} (datatype ${datatype})`);
  }
  return flat as Element[];
}
