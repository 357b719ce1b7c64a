import { describe, expect, it } from 'vitest';
import { PredictionEndpointSpec } from '@apinode/protocol';
import { compileEncoder } from '../../src/inference/encoding.js';
import type { TensorInfo } from '../../src/inference/model-runtime.js';

const t = (name: string, type: TensorInfo['type'], dims: TensorInfo['dims'] = [null, 1]): TensorInfo => ({ name, isTensor: true, type, dims });

const columnsSpec = PredictionEndpointSpec.parse({
  id: 'e',
  type: 'STD_PREDICTION',
  predictionType: 'BINARY_CLASSIFICATION',
  classes: ['0', '1'],
  features: [
    { name: 'pclass', type: 'CATEGORY' },
    { name: 'sex', type: 'CATEGORY' },
    { name: 'age', type: 'NUMERIC' },
    { name: 'n', type: 'NUMERIC' },
  ],
  model: {
    file: 'models/m.onnx',
    inputs: { mode: 'COLUMNS', columns: [{ feature: 'pclass' }, { feature: 'sex', impute: 'female' }, { feature: 'age' }, { feature: 'n', input: 'count' }] },
    outputs: { probabilities: 'p' },
  },
});
const columnsInputs = [t('pclass', 'int64'), t('sex', 'string'), t('age', 'float32'), t('count', 'int64', [null])];

describe('COLUMNS encoding', () => {
  it('feeds one [N,1] tensor per column, typed as the model declares', () => {
    const b = compileEncoder(columnsSpec, columnsInputs).encode([
      { pclass: 1, sex: 'male', age: 22.5, n: 3 },
      { pclass: '3', sex: 'female', age: '40', n: '2' },
    ]);
    expect(b.rows).toEqual([0, 1]);
    expect(b.feeds.pclass).toEqual({ type: 'int64', data: new BigInt64Array([1n, 3n]), dims: [2, 1] });
    expect(b.feeds.sex).toEqual({ type: 'string', data: ['male', 'female'], dims: [2, 1] });
    expect(Array.from(b.feeds.age!.data as Float32Array)).toEqual([22.5, 40]);
    expect(b.feeds.count!.dims).toEqual([2]);
  });

  it('treats absent, null and empty values as missing: NaN for floats, the declared imputation for strings', () => {
    const b = compileEncoder(columnsSpec, columnsInputs).encode([{ pclass: 2, sex: null, age: '', n: 1 }]);
    expect(b.feeds.sex!.data).toEqual(['female']);
    expect(Number.isNaN((b.feeds.age!.data as Float32Array)[0])).toBe(true);
  });

  it('ignores a record whose value cannot be used, and only that record', () => {
    const b = compileEncoder(columnsSpec, columnsInputs).encode([
      { pclass: 1, sex: 'male', age: 'old', n: 1 },
      { pclass: 2, sex: 'male', age: 30, n: 1 },
      { sex: 'male', age: 30, n: 1 },
      { pclass: 1.5, sex: 'male', age: 30, n: 1 },
      { pclass: 1, sex: { nested: true }, age: 30, n: 1 },
    ]);
    expect(b.rows).toEqual([1]);
    expect(b.feeds.pclass!.data).toEqual(new BigInt64Array([2n]));
    expect(b.ignored.get(0)).toMatch(/"age": "old" is not a number/);
    expect(b.ignored.get(2)).toMatch(/"pclass" is missing and has no imputation/);
    expect(b.ignored.get(3)).toMatch(/not an integer/);
    expect(b.ignored.get(4)).toMatch(/"sex".*not a category/);
  });

  it('refuses a model input that no column feeds, when the model is loaded', () => {
    expect(() => compileEncoder(columnsSpec, [...columnsInputs, t('extra', 'float32')])).toThrow(/inputs without a column: extra/);
  });
});

const matrixSpec = PredictionEndpointSpec.parse({
  id: 'm',
  type: 'STD_PREDICTION',
  predictionType: 'REGRESSION',
  features: [
    { name: 'x', type: 'NUMERIC' },
    { name: 'c', type: 'CATEGORY' },
    { name: 'd', type: 'CATEGORY' },
  ],
  model: {
    file: 'models/m.onnx',
    inputs: {
      mode: 'MATRIX',
      input: 'X',
      columns: [
        { feature: 'x', impute: 10, shift: 4, scale: 0.5 },
        { feature: 'c', oneHot: ['a', 'b', 'c'], impute: 'b' },
        { feature: 'd', oneHot: ['u', 'v'], unknown: 'IGNORE' },
      ],
    },
    outputs: { prediction: 'y' },
  },
});

describe('MATRIX encoding', () => {
  const enc = compileEncoder(matrixSpec, [t('X', 'float32', [null, 6])]);

  it('scales numerics, one-hot encodes categories and imputes missing values', () => {
    const b = enc.encode([
      { x: 8, c: 'c', d: 'v' },
      { x: null, d: 'u' },
      { x: '6', c: 'zzz', d: null },
    ]);
    expect(b.feeds.X!.dims).toEqual([3, 6]);
    expect(Array.from(b.feeds.X!.data as Float32Array)).toEqual([2, 0, 0, 1, 0, 1, 3, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  });

  it('ignores an unknown category when the column says IGNORE', () => {
    const b = enc.encode([{ x: 1, c: 'a', d: 'w' }]);
    expect(b.rows).toEqual([]);
    expect(b.ignored.get(0)).toMatch(/unknown category "w"/);
  });

  it('refuses a matrix whose width differs from the encoding', () => {
    expect(() => compileEncoder(matrixSpec, [t('X', 'float32', [null, 5])])).toThrow(/has 5 columns, the manifest encodes 6/);
  });
});
