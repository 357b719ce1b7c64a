import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, it, expect } from 'vitest';
import { exposeZipMapInputs } from '../../src/inference/onnx-rewrite.js';
import {
  WireType, concatBytes, encodeFixed32, encodeFixed64, encodeLenField, encodeStringField, encodeTag, encodeVarint,
  encodeVarintField, parseMessage, readFixed32, readFixed64, readVarint, readVarintNumber, repeatedVarints, stringField,
} from '../../src/inference/protobuf.js';

ort.env.wasm.numThreads = 1;
const fixtures = path.resolve(__dirname, '../fixtures/real-models');
const load = (file: string) => new Uint8Array(readFileSync(path.join(fixtures, file)));
const floats = (rows: number[][]) => new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]?.length ?? 0]);
const strings = (xs: string[]) => new ort.Tensor('string', xs, [xs.length, 1]);
const argmax = (row: number[]) => row.indexOf(Math.max(...row));

function matrix(t: ort.Tensor | undefined): number[][] {
  if (!t || t.dims.length !== 2) throw new Error('expected a 2-D tensor');
  const [n = 0, c = 0] = t.dims;
  const data = Array.from(t.data as Float32Array);
  return Array.from({ length: n }, (_, i) => data.slice(i * c, (i + 1) * c));
}
const labels = (t: ort.Tensor | undefined) => Array.from((t?.data ?? []) as ArrayLike<bigint | string>, String);

async function runRewritten(file: string, feeds: Record<string, ort.Tensor>) {
  const { bytes, zipMaps } = exposeZipMapInputs(load(file));
  const session = await ort.InferenceSession.create(bytes);
  try {
    return { zipMaps, outputNames: session.outputNames, out: await session.run(feeds) };
  } finally {
    await session.release();
  }
}

const titanic = { sex: strings(['female', 'male', 'male']), age: floats([[29], [22], [NaN]]), fare: floats([[211.3375], [7.25], [13]]), embarked: strings(['S', 'S', 'Z']) };
const iris = floats([[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]);

describe('protobuf wire format', () => {
  const boundaries = [0n, 1n, 127n, 128n, 300n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];

  it('round-trips varints across the 2^31, 2^32, 2^53 and 2^64 boundaries', () => {
    for (const v of boundaries) {
      const bytes = encodeVarint(v);
      expect(readVarint(bytes, 0)).toEqual({ value: v, next: bytes.length });
    }
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
  });

  it('encodes negative int64 as ten bytes of two\'s complement', () => {
    const bytes = encodeVarint(-1n);
    expect(bytes.length).toBe(10);
    expect(BigInt.asIntN(64, readVarint(bytes, 0).value)).toBe(-1n);
  });

  it('reads lengths as exact numbers up to 2^53-1 and refuses anything larger', () => {
    expect(readVarintNumber(encodeVarint(2 ** 53 - 1), 0).value).toBe(2 ** 53 - 1);
    expect(readVarintNumber(encodeVarint(2 ** 32 + 5), 0).value).toBe(2 ** 32 + 5);
    expect(() => readVarintNumber(encodeVarint(2n ** 53n), 0)).toThrow(/too large/);
  });

  it('rejects truncated and over-long varints', () => {
    expect(() => readVarint(Uint8Array.of(0x80, 0x80), 0)).toThrow(/truncated varint/);
    expect(() => readVarint(new Uint8Array(11).fill(0x80), 0)).toThrow(/longer than 10 bytes/);
  });

  it('parses every wire type into raw fields that re-emit verbatim', () => {
    const msg = concatBytes([
      encodeVarintField(1, 2n ** 60n), concatBytes([encodeTag(2, WireType.I32), encodeFixed32(0xdeadbeef)]),
      concatBytes([encodeTag(3, WireType.I64), encodeFixed64(2n ** 64n - 2n)]), encodeStringField(4, 'héllo'),
    ]);
    const fields = parseMessage(msg);
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([[1, 0], [2, 5], [3, 1], [4, 2]]);
    expect(fields[0]?.value).toBe(2n ** 60n);
    expect(readFixed32(fields[1]!.bytes)).toBe(0xdeadbeef);
    expect(readFixed64(fields[2]!.bytes)).toBe(2n ** 64n - 2n);
    expect(stringField(fields, 4)).toBe('héllo');
    expect(concatBytes(fields.map((f) => msg.subarray(f.start, f.end)))).toEqual(msg);
  });

  it('reads repeated varints the same whether packed or not', () => {
    const values = [1n, 2n ** 40n, BigInt.asUintN(64, -3n)];
    const unpacked = parseMessage(concatBytes(values.map((v) => encodeVarintField(8, v))));
    const packed = parseMessage(encodeLenField(8, concatBytes(values.map((v) => encodeVarint(v)))));
    expect(repeatedVarints(unpacked, 8)).toEqual(values);
    expect(repeatedVarints(packed, 8)).toEqual(values);
  });

  it('rejects group wire types, field number zero and lengths past the end', () => {
    expect(() => parseMessage(Uint8Array.of(0x0b))).toThrow(/wire type 3/);
    expect(() => parseMessage(Uint8Array.of(0x00, 0x00))).toThrow(/field number 0/);
    expect(() => parseMessage(Uint8Array.of(0x0a, 0x05, 0x61))).toThrow(/claims 5 bytes, only 1 left/);
  });
});

describe('exposeZipMapInputs on real exported models', () => {
  it('exposes the titanic ZipMap input with the labels, slot and values the ZipMap model computes', async () => {
    const { zipMaps, outputNames, out } = await runRewritten('skl2onnx_titanic_pipeline_zipmap.onnx', { ...titanic, pclass: strings(['1', '3', '2']) });
    expect(zipMaps).toEqual([{ zipMapOutput: 'output_probability', probabilities: 'probabilities', classLabels: ['0', '1'] }]);
    expect(outputNames).toEqual(['output_label', 'probabilities']);
    const probs = matrix(out.probabilities);
    expect(labels(out.output_label)).toEqual(['1', '0', '0']);
    expect(probs.map(argmax)).toEqual([1, 0, 0]);
    for (const row of probs) expect(row[0]! + row[1]!).toBeCloseTo(1, 5);
    // The nozipmap file was trained separately (its Imputer medians, Scaler and coefficients differ), so it
    // agrees only loosely. P(1) below is sigmoid(w·x+b) evaluated by hand from the LinearClassifier weights.
    const nozipmap = [[0.114462, 0.885538], [0.9015031, 0.09849685], [0.7191733, 0.2808267]];
    probs.forEach((row, i) => row.forEach((p, j) => expect(Math.abs(p - nozipmap[i]![j]!)).toBeLessThan(0.05)));
    [0.90928, 0.09467, 0.25155].forEach((p1, i) => expect(Math.abs(probs[i]![1]! - p1)).toBeLessThan(1e-3));
  });

  it('leaves the titanic nozipmap probabilities as documented upstream', async () => {
    const model = load('skl2onnx_titanic_pipeline_nozipmap.onnx');
    expect(exposeZipMapInputs(model).bytes).toBe(model);
    const session = await ort.InferenceSession.create(model);
    const out = await session.run({ ...titanic, pclass: new ort.Tensor('int64', BigInt64Array.of(1n, 3n, 2n), [3, 1]) });
    await session.release();
    const expected = [[0.114462, 0.885538], [0.9015031, 0.09849685], [0.7191733, 0.2808267]];
    matrix(out.probabilities).forEach((row, i) => row.forEach((p, j) => expect(Math.abs(p - expected[i]![j]!)).toBeLessThan(1e-5)));
  });

  it('gives iris random-forest probabilities whose argmax is the label and whose rows sum to one', async () => {
    const { zipMaps, out } = await runRewritten('skl2onnx_rf_iris_multiclass.onnx', { float_input: iris });
    expect(zipMaps[0]?.classLabels).toEqual(['0', '1', '2']);
    const probs = matrix(out[zipMaps[0]!.probabilities]);
    expect(labels(out.output_label)).toEqual(['0', '1', '2']);
    expect(probs.map(argmax)).toEqual([0, 1, 2]);
    for (const row of probs) expect(row.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
  });

  it('gives LightGBM iris probabilities whose argmax is the label', async () => {
    const { zipMaps, out } = await runRewritten('skl2onnx_lightgbm_iris_pipeline.onnx', { input: floats([[5.1, 3.5], [6.2, 2.9], [7.7, 3.0]]) });
    expect(zipMaps).toEqual([{ zipMapOutput: 'output_probability', probabilities: 'probability_tensor', classLabels: ['0', '1', '2'] }]);
    expect(labels(out.output_label)).toEqual(['0', '2', '2']);
    expect(matrix(out.probability_tensor).map(argmax)).toEqual([0, 2, 2]);
  });

  it('gives the 2018 string-label model {A: 0.667, B: 0.333} with labels A and B', async () => {
    const { zipMaps, out } = await runRewritten('onnxmltools_legacy_rf_binary_stringlabels.onnx', { input: floats([[1, 1]]) });
    expect(zipMaps).toEqual([{ zipMapOutput: 'probabilities', probabilities: 'probability_tensor', classLabels: ['A', 'B'] }]);
    expect(labels(out.label)).toEqual(['A']);
    const [row] = matrix(out.probability_tensor);
    expect(Math.abs(row![0]! - 0.667)).toBeLessThan(1e-3);
    expect(Math.abs(row![1]! - 0.333)).toBeLessThan(1e-3);
  });

  it('returns the very same Uint8Array for every model without ZipMap', () => {
    for (const file of ['onnxmltools_xgboost_classifier_wine.onnx', 'onnxmltools_xgboost_regressor_wine.onnx', 'skl2onnx_rf_regressor_10f.onnx', 'skl2onnx_titanic_pipeline_nozipmap.onnx']) {
      const model = load(file);
      expect(exposeZipMapInputs(model)).toEqual({ bytes: model, zipMaps: [] });
      expect(exposeZipMapInputs(model).bytes).toBe(model);
    }
  });
});

describe('exposeZipMapInputs on edge cases', () => {
  // ModelProto{graph{node ZipMap(X)->Z with packed int64 labels, outputs Z and X, value_info Z}}
  const valueInfo = (name: string) => encodeStringField(1, name);
  const zipMapNode = concatBytes([
    encodeStringField(1, 'X'), encodeStringField(2, 'Z'), encodeStringField(4, 'ZipMap'), encodeStringField(7, 'ai.onnx.ml'),
    encodeLenField(5, concatBytes([encodeStringField(1, 'classlabels_int64s'), encodeLenField(8, concatBytes([encodeVarint(-1n), encodeVarint(7)]))])),
  ]);
  const graphOf = (...fields: Uint8Array[]) => concatBytes([encodeVarintField(1, 7), encodeLenField(7, concatBytes(fields))]);

  it('does not add the probabilities twice when they already are a graph output, and drops the ZipMap traces', () => {
    const model = graphOf(encodeLenField(1, zipMapNode), encodeLenField(12, valueInfo('Z')), encodeLenField(12, valueInfo('X')), encodeLenField(13, valueInfo('Z')));
    const { bytes, zipMaps } = exposeZipMapInputs(model);
    expect(zipMaps).toEqual([{ zipMapOutput: 'Z', probabilities: 'X', classLabels: ['-1', '7'] }]);
    const graph = parseMessage(parseMessage(bytes).find((f) => f.field === 7)!.bytes);
    expect(graph.map((f) => f.field)).toEqual([12]);
    expect(graph.map((f) => stringField(parseMessage(f.bytes), 1))).toEqual(['X']);
    expect(parseMessage(bytes)[0]).toMatchObject({ field: 1, value: 7n }); // untouched fields survive
  });

  it('leaves a ZipMap alone when another node consumes its map', () => {
    const consumer = encodeLenField(1, concatBytes([encodeStringField(1, 'Z'), encodeStringField(4, 'Identity')]));
    const model = graphOf(encodeLenField(1, zipMapNode), consumer);
    expect(exposeZipMapInputs(model).bytes).toBe(model);
  });

  it('throws a clear error for every truncation inside the graph of a real model', () => {
    const model = load('skl2onnx_titanic_pipeline_zipmap.onnx');
    for (let cut = 34; cut < 1876; cut++) {
      expect(() => exposeZipMapInputs(model.subarray(0, cut))).toThrow(/^not a valid ONNX model: /);
    }
    expect(() => exposeZipMapInputs(model.subarray(0, model.length - 1))).toThrow(/claims \d+ bytes/);
  });

  it('throws a clear error for empty and random bytes instead of hanging', () => {
    expect(() => exposeZipMapInputs(new Uint8Array(0))).toThrow('not a valid ONNX model: ModelProto has no graph (field 7)');
    let seed = 42;
    for (let trial = 0; trial < 200; trial++) {
      const bytes = new Uint8Array(trial === 0 ? 1 << 20 : 1 + (trial * 37) % 4096).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
      expect(() => exposeZipMapInputs(bytes)).toThrow(/^not a valid ONNX model: /);
    }
  });
});
