import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { json } from './stores.js';

/** The converter-exported models in test/fixtures/real-models (copied from upstream, see PROVENANCE.md there), with the outputs PROVENANCE.md records. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/real-models/', import.meta.url));

const numeric = (names: string[]) => names.map((name) => ({ name, type: 'NUMERIC' }));
const matrix = (input: string, names: string[]) => ({ mode: 'MATRIX', input, columns: names.map((feature) => ({ feature })) });
const f = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const rows = (names: string[], values: number[][]) => values.map((v) => Object.fromEntries(names.map((n, i) => [n, v[i]])));

const wine = f('w', 13);
const wineRows = rows(wine, [
  [14.23, 1.71, 2.43, 15.6, 127, 2.8, 3.06, 0.28, 2.29, 5.64, 1.04, 3.92, 1065],
  [12.37, 1.13, 2.16, 19, 87, 3.5, 3.1, 0.19, 1.87, 4.45, 1.22, 2.87, 420],
]);
const iris = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const titanic = [
  { name: 'pclass', type: 'CATEGORY' },
  { name: 'sex', type: 'CATEGORY' },
  { name: 'age', type: 'NUMERIC' },
  { name: 'fare', type: 'NUMERIC' },
  { name: 'embarked', type: 'CATEGORY' },
];
const titanicColumns = { mode: 'COLUMNS', columns: titanic.map((t) => ({ feature: t.name })) };
const titanicRecords = [
  { pclass: 1, sex: 'female', age: 29, fare: 211.3375, embarked: 'S' },
  { pclass: 3, sex: 'male', age: 22, fare: 7.25, embarked: 'S' },
  { pclass: 2, sex: 'male', age: null, fare: 13, embarked: 'Z' },
];
const x10 = f('x', 10);

export interface RealModelCase {
  endpoint: Record<string, unknown> & { id: string };
  file: string;
  records: Record<string, unknown>[];
  /** From PROVENANCE.md (upstream reference outputs or ORT observations), never from this node. */
  predictions: (string | number)[];
  probas?: number[][];
  tolerance?: number;
}

export const REAL_MODELS: RealModelCase[] = [
  {
    file: 'skl2onnx_titanic_pipeline_zipmap.onnx',
    endpoint: { id: 'titanic-zipmap', predictionType: 'BINARY_CLASSIFICATION', classes: ['0', '1'], features: titanic, model: { inputs: titanicColumns, outputs: { label: 'output_label', probabilities: 'output_probability' } } },
    records: titanicRecords,
    predictions: ['1', '0', '0'],
  },
  {
    file: 'skl2onnx_titanic_pipeline_nozipmap.onnx',
    endpoint: { id: 'titanic', predictionType: 'BINARY_CLASSIFICATION', classes: ['0', '1'], features: titanic, model: { inputs: titanicColumns, outputs: { label: 'label', probabilities: 'probabilities' } } },
    records: titanicRecords,
    predictions: ['1', '0', '0'],
    probas: [[0.114462, 0.885538], [0.9015031, 0.09849685], [0.7191733, 0.2808267]],
    tolerance: 1e-5,
  },
  {
    file: 'skl2onnx_rf_iris_multiclass.onnx',
    endpoint: { id: 'iris-rf', predictionType: 'MULTICLASS', classes: ['setosa', 'versicolor', 'virginica'], features: numeric(iris), model: { inputs: matrix('float_input', iris), outputs: { label: 'output_label', probabilities: 'output_probability' } } },
    records: rows(iris, [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]),
    predictions: ['setosa', 'versicolor', 'virginica'],
  },
  {
    file: 'skl2onnx_lightgbm_iris_pipeline.onnx',
    endpoint: { id: 'iris-lgbm', predictionType: 'MULTICLASS', classes: ['setosa', 'versicolor', 'virginica'], features: numeric(iris.slice(0, 2)), model: { inputs: matrix('input', iris.slice(0, 2)), outputs: { probabilities: 'output_probability' } } },
    records: rows(iris.slice(0, 2), [[5.1, 3.5], [6.2, 2.9], [7.7, 3.0]]),
    predictions: ['setosa', 'virginica', 'virginica'],
  },
  {
    file: 'onnxmltools_xgboost_classifier_wine.onnx',
    endpoint: { id: 'wine-xgb', predictionType: 'MULTICLASS', classes: ['c0', 'c1', 'c2'], features: numeric(wine), model: { inputs: matrix('input', wine), outputs: { probabilities: 'probabilities' } } },
    records: wineRows,
    predictions: ['c0', 'c1'],
    probas: [[0.9521666, 0.02422502, 0.02360832], [0.03686839, 0.9322931, 0.03083856]],
    tolerance: 1e-6,
  },
  {
    file: 'onnxmltools_xgboost_regressor_wine.onnx',
    endpoint: { id: 'wine-xgb-reg', predictionType: 'REGRESSION', features: numeric(wine), model: { inputs: matrix('input', wine), outputs: { prediction: 'variable' } } },
    records: wineRows,
    predictions: [0.01451659, 0.9858369],
    tolerance: 1e-6,
  },
  {
    file: 'skl2onnx_rf_regressor_10f.onnx',
    endpoint: { id: 'rf-reg', predictionType: 'REGRESSION', features: numeric(x10), model: { inputs: matrix('X', x10), outputs: { prediction: 'variable' } } },
    records: rows(x10, [
      [-0.59399, 2.603449, 1.078414, 0.3169044, 2.913285, -0.1046053, -0.1277574, -0.5915829, 1.08462, -0.1692801],
      [-0.449811, -1.120243, 1.318329, -1.04809, -0.9586034, 0.9888077, 0.1001221, -0.4520909, 0.2181809, 1.758944],
    ]),
    predictions: [372.543, -139.8395],
    tolerance: 1e-3,
  },
  {
    file: 'onnxmltools_legacy_rf_binary_stringlabels.onnx',
    endpoint: { id: 'legacy-rf', predictionType: 'BINARY_CLASSIFICATION', classes: ['A', 'B'], features: numeric(['a', 'b']), model: { inputs: matrix('input', ['a', 'b']), outputs: { label: 'label', probabilities: 'probabilities' } } },
    records: [{ a: 1, b: 1 }],
    predictions: ['A'],
    probas: [[0.667, 0.333]],
    tolerance: 1e-3,
  },
];

/** Seeds service "fixtures" (PUBLIC, one generation "g1") with every real model wrapped as an endpoint. */
export async function seedRealModels(store: ObjectStore): Promise<void> {
  const endpoints = REAL_MODELS.map((c) => ({
    type: 'STD_PREDICTION',
    ...c.endpoint,
    model: { file: `models/${c.file}`, ...(c.endpoint.model as object) },
  }));
  for (const c of REAL_MODELS) await store.put(`services/fixtures/generations/g1/models/${c.file}`, await readFile(FIXTURES_DIR + c.file));
  await store.put('services/fixtures/generations/g1/manifest.json', json({ formatVersion: 1, generation: 'g1', createdAt: '2026-11-01T00:00:00Z', endpoints }));
  await store.put('services/fixtures/service.json', json({ serviceId: 'fixtures', enabled: true, auth: { method: 'PUBLIC' }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
}
