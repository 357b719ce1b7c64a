import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Manifest, PredictionEndpointSpec } from '@apinode/protocol';
import { nestsDeeperThan } from '../../src/api/http.js';
import { CodeSandbox } from '../../src/code/sandbox.js';
import { crashError, unavailableError } from '../../src/code/sandbox-errors.js';
import { SelfClients } from '../../src/code/self-client.js';
import { ApiError } from '../../src/errors.js';
import { compileDecoder } from '../../src/inference/decode.js';
import { compileEncoder } from '../../src/inference/encoding.js';
import { ModelError, runtimeMessage, type TensorInfo } from '../../src/inference/model-runtime.js';
import { ortModelRuntime, type OrtModule } from '../../src/inference/ort-runtime.js';
import { capped, jsonBytes } from '../../src/observability/query-log.js';

const tensor = (name: string, type: TensorInfo['type'], dims: TensorInfo['dims'] = [null, 1]): TensorInfo => ({ name, isTensor: true, type, dims });

describe('the JSON depth check', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('counts arrays and objects, and nothing inside strings', () => {
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    expect(nestsDeeperThan(`{"a": ${'{"b": '.repeat(70)}1${'}'.repeat(70)}}`, 64)).toBe(true);
    expect(nestsDeeperThan(JSON.stringify({ s: '[{'.repeat(500), t: 'a\\"[[[[' }), 64)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify(['\\', '['.repeat(100)]), 64)).toBe(false);
  });

  it('walks a million levels without recursion', () => {
    expect(nestsDeeperThan(nested(1_000_000), 64)).toBe(true);
  });
});

describe('the query log size of a value', () => {
  const values: unknown[] = [
    null,
    0,
    -1.5e-7,
    1e21,
    true,
    '',
    'plain',
    'quote " backslash \\ newline \n tab \t nul \u0000 bell \u0007',
    'é ü 中文 😀 lone \ud800 end',
    [],
    {},
    [1, 'a', null, [2, [3, {}]]],
    { a: 1, b: undefined, c: [undefined, 2], 'k"ey': { nested: ['x'] } },
  ];

  it('is the UTF-8 length of its JSON', () => {
    for (const v of values) expect(jsonBytes(v), JSON.stringify(v)).toBe(new TextEncoder().encode(JSON.stringify(v)).byteLength);
  });

  it('keeps a small value, and replaces a large one with a marker of its size', () => {
    expect(capped({ a: 1 }, 100)).toEqual({ a: 1 });
    const big = { text: 'x'.repeat(1000) };
    expect(capped(big, 100)).toEqual({ truncated: true, bytes: 1011 });
  });

  it('keeps a value exactly when its JSON fits (random JSON values and caps, against TextEncoder)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 400 }), (v, max) => {
        const bytes = new TextEncoder().encode(JSON.stringify(v)).byteLength;
        expect(capped(v, max)).toEqual(bytes <= max ? v : { truncated: true, bytes });
      }),
      { numRuns: 2000 },
    );
  });

  it('measures values too deep for JSON.stringify', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonBytes(deep)).toBe(200_002);
  });
});

describe('encoding numbers the model cannot hold', () => {
  const spec = PredictionEndpointSpec.parse({
    id: 'e',
    type: 'STD_PREDICTION',
    predictionType: 'REGRESSION',
    features: [
      { name: 'f', type: 'NUMERIC' },
      { name: 'i', type: 'NUMERIC' },
      { name: 'l', type: 'NUMERIC' },
    ],
    model: { file: 'models/m.onnx', inputs: { mode: 'COLUMNS', columns: [{ feature: 'f' }, { feature: 'i' }, { feature: 'l' }] }, outputs: { prediction: 'y' } },
  });
  const encoder = compileEncoder(spec, [tensor('f', 'float32'), tensor('i', 'int32'), tensor('l', 'int64')]);

  it('ignores a record whose value overflows its input type, and keeps missing values as NaN', () => {
    const batch = encoder.encode([
      { f: 1e308, i: 1, l: 1 },
      { f: 1, i: 2 ** 31, l: 1 },
      { f: 1, i: 1, l: 2 ** 63 },
      { f: null, i: -(2 ** 31), l: -(2 ** 63) },
    ]);
    expect(batch.rows).toEqual([3]);
    expect(batch.ignored.get(0)).toMatch(/"f": 1e\+308 is out of the range of the model's float32 input/);
    expect(batch.ignored.get(1)).toMatch(/"i".*int32/);
    expect(batch.ignored.get(2)).toMatch(/"l".*int64/);
    expect(Number.isNaN((batch.feeds.f!.data as Float32Array)[0])).toBe(true);
  });
});

describe('decoding outputs that are not finite', () => {
  const spec = PredictionEndpointSpec.parse({
    id: 'e',
    type: 'STD_PREDICTION',
    predictionType: 'BINARY_CLASSIFICATION',
    classes: ['no', 'yes'],
    probaPercentiles: [0.1, 0.5, 0.9],
    features: [{ name: 'f', type: 'NUMERIC' }],
    model: { file: 'models/m.onnx', inputs: { mode: 'COLUMNS', columns: [{ feature: 'f' }] }, outputs: { probabilities: 'p' } },
  });
  const decoder = compileDecoder(spec, [tensor('p', 'float32', [null, 2])], new Map());

  it('ignores the record, never a null probability', () => {
    const out = { p: { type: 'float32' as const, data: new Float32Array([0.2, 0.8, NaN, 0.5, 0.5, Infinity]), dims: [3, 2] } };
    const [ok, nan, inf] = decoder.decode(out, 3);
    expect(ok).toMatchObject({ ignored: false, prediction: 'yes' });
    expect(nan).toEqual({ ignored: true, ignoreReason: "the model's output for this record is not a finite number (NaN)" });
    expect(inf).toEqual({ ignored: true, ignoreReason: "the model's output for this record is not a finite number (Infinity)" });
  });

  it('calls a model that answers the wrong shape a ModelError', () => {
    expect(() => decoder.decode({ p: { type: 'float32', data: new Float32Array(3), dims: [3] } }, 2)).toThrow(ModelError);
  });
});

describe('the manifest', () => {
  it('refuses probability percentiles that are not ascending', () => {
    const endpoint = (probaPercentiles: number[]) => ({
      id: 'e',
      type: 'STD_PREDICTION',
      predictionType: 'BINARY_CLASSIFICATION',
      classes: ['no', 'yes'],
      probaPercentiles,
      features: [{ name: 'f', type: 'NUMERIC' }],
      model: { file: 'models/m.onnx', inputs: { mode: 'COLUMNS', columns: [{ feature: 'f' }] }, outputs: { probabilities: 'p' } },
    });
    const manifest = (cuts: number[]) => Manifest.safeParse({ formatVersion: 1, generation: 'g', createdAt: '2026-01-01T00:00:00Z', endpoints: [endpoint(cuts)] });
    expect(manifest([0.1, 0.1, 0.7]).success).toBe(true);
    const unsorted = manifest([0.1, 0.7, 0.3]);
    expect(unsorted.success).toBe(false);
    expect(JSON.stringify(unsorted.error?.issues)).toMatch(/ascending/);
  });
});

describe("third-party messages", () => {
  it("keep onnxruntime's explanation, without its wrapping, source paths and signatures", () => {
    expect(runtimeMessage(new Error("Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."))).toBe(
      'Failed to load model because protobuf parsing failed.',
    );
    const run = new Error(
      "failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Non-zero status code returned while running Gemm node. Name:'/Gemm' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/math/gemm_helper.h:14 onnxruntime::GemmHelper::GemmHelper(const onnxruntime::TensorShape&, bool) left.NumDimensions() == 2 was false.\n    at g (ort.min.mjs:7:5005)",
    );
    expect(runtimeMessage(run)).toBe("Non-zero status code returned while running Gemm node. Name:'/Gemm' Status Message: left.NumDimensions() == 2 was false.");
  });

  it("come out of the onnxruntime adapter as a ModelError with our message, theirs as the cause", async () => {
    const raw = new Error("Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed.");
    const ort = { InferenceSession: { create: async () => Promise.reject(raw) }, Tensor: class {} } as unknown as OrtModule;
    const err = await ortModelRuntime(ort).load(new Uint8Array(1)).then(() => null, (e: unknown) => e as ModelError);
    expect(err).toBeInstanceOf(ModelError);
    expect(err?.message).toBe('onnxruntime cannot load the model: Failed to load model because protobuf parsing failed.');
    expect(err?.cause).toBe(raw);
  });

  it('stay out of what the sandbox answers, and go to the log as the cause', () => {
    const raw = new Error('RuntimeError: memory access out of bounds at wasm-function[1234]:0x5678');
    for (const e of [crashError(raw, () => undefined), unavailableError(raw)]) {
      expect(JSON.stringify(e.toBody())).not.toMatch(/wasm-function|memory access/);
      expect(e.cause).toBe(raw);
    }
  });
});

describe('code endpoints', () => {
  it('hand a caller\'s string that looks like an internal marker to the function as sent', async () => {
    const sandbox = new CodeSandbox();
    const host = { log: () => undefined, groups: {}, context: {} };
    const call = (args: unknown[]) => sandbox.run({ source: 'export function f(a, b = "default") { return [typeof a, a, b] }', file: 'f.js', exportName: 'f', invocations: [args], limits: { cpuTimeMs: 500, memoryMiB: 8 }, host });
    expect((await call(['\u0000apinode:undefined', '\u0000apinode:undefined'])).values).toEqual([['string', '\u0000apinode:undefined', '\u0000apinode:undefined']]);
    expect((await call([undefined, undefined])).values).toEqual([['undefined', null, 'default']]);
  });

  it('refuse self-calls nested too deep with ApiError 508 SELF_CALL_TOO_DEEP', async () => {
    const clients = new SelfClients(async () => new Response('{}'));
    const header = (depth: number) => `${(clients as unknown as { token: string }).token}.${depth}`;
    const client = clients.client({ serviceId: 's', authorization: undefined, requestId: 'r', selfCall: header(4) });
    const err = await client.runFunction!('f', {}).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 508, errorType: 'SELF_CALL_TOO_DEEP' });
  });
});
