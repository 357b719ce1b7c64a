/**
 * Trains one endpoint's model for a generation and returns the ONNX bytes, the manifest's
 * model spec and the reference parameters. v1: linear models on a MATRIX input (the node
 * encodes); v2: boosted trees on COLUMNS inputs (the graph encodes).
 */
import { encodeRows, fitColumns, width, type Column } from './encoding.js';
import type { EndpointData } from './endpoints.js';
import { trainLogistic, trainRidge, trainSoftmax } from './linear.js';
import { kmeansCentroids } from './kmeans.js';
import { kmeansOnnx, linearClassifierOnnx, linearRegressorOnnx, treeEnsembleOnnx } from './onnx-export.js';
import { boost } from './trees.js';
import type { Reference } from '../reference-scorer.js';

export interface ModelInputs {
  mode: 'MATRIX' | 'COLUMNS';
  input?: string;
  columns: (Column | { feature: string; input?: string })[];
}

export interface Trained {
  onnx: Uint8Array;
  file: string;
  inputs: ModelInputs;
  outputs: { label?: string; probabilities?: string; prediction?: string };
  ref: Reference;
}

const fileName = (id: string): string => `models/${id}.onnx`;

export function trainV1(e: EndpointData): Trained {
  const columns = fitColumns(e.data.records, e.features, { standardize: true, maxCategories: e.maxCategories, alphabetical: !e.maxCategories });
  const X = encodeRows(e.data.records, columns);
  const w = width(columns);
  const base = { endpoint: e.id, generation: 'v1', predictionType: e.predictionType, columns } as const;
  const inputs: ModelInputs = { mode: 'MATRIX', input: 'X', columns };
  if (e.predictionType === 'REGRESSION') {
    const m = trainRidge(X, e.y, 1);
    return { onnx: linearRegressorOnnx(e.id, m, w), file: fileName(e.id), inputs, outputs: { prediction: 'prediction' }, ref: { ...base, model: { kind: 'linear', link: 'identity', ...m } } };
  }
  const classes = e.classes!;
  const m = classes.length === 2 ? trainLogistic(X, e.y, 1) : trainSoftmax(X, e.y, classes.length, 1e-3);
  const link = classes.length === 2 ? 'logistic' : 'softmax';
  return {
    onnx: linearClassifierOnnx(e.id, m, w, classes.length),
    file: fileName(e.id),
    inputs,
    outputs: { label: 'label', probabilities: 'probabilities' },
    ref: { ...base, classes, model: { kind: 'linear', link, ...m } },
  };
}

const TREE_SETTINGS: Record<string, { rounds: number; maxDepth: number; learningRate: number; minLeaf: number }> = {
  'penguin-species': { rounds: 20, maxDepth: 3, learningRate: 0.3, minLeaf: 3 },
  'flight-delayed': { rounds: 40, maxDepth: 4, learningRate: 0.2, minLeaf: 20 },
  'car-mpg': { rounds: 50, maxDepth: 3, learningRate: 0.15, minLeaf: 5 },
};

export function trainV2(e: EndpointData): Trained {
  const columns: Column[] = fitColumns(e.data.records, e.features, { standardize: false, maxCategories: e.maxCategories, alphabetical: !e.maxCategories });
  const X = encodeRows(e.data.records, columns).map((r) => r.map(Math.fround));
  const s = TREE_SETTINGS[e.id]!;
  const base = { endpoint: e.id, generation: 'v2', predictionType: e.predictionType, columns } as const;
  const inputs: ModelInputs = { mode: 'COLUMNS', columns: e.features.map((f) => ({ feature: f.name })) };
  if (e.predictionType === 'REGRESSION') {
    const ens = boost(X, e.y, { loss: 'squared', lambda: 1, ...s });
    return {
      onnx: treeEnsembleOnnx(e.id, ens, columns, 'regressor'),
      file: fileName(e.id),
      inputs,
      outputs: { prediction: 'prediction' },
      ref: { ...base, model: { kind: 'trees', link: 'identity', ...ens } },
    };
  }
  const classes = e.classes!;
  const binary = classes.length === 2;
  const ens = boost(X, e.y, { loss: binary ? 'logistic' : 'softmax', nClasses: classes.length, lambda: 1, ...s });
  return {
    onnx: treeEnsembleOnnx(e.id, ens, columns, 'classifier', classes.length),
    file: fileName(e.id),
    inputs,
    outputs: { label: 'label', probabilities: 'probabilities' },
    ref: { ...base, classes, model: { kind: 'trees', link: binary ? 'logistic' : 'softmax', ...ens } },
  };
}

/** v2 only: k-means (k=3) on the four standardized penguin measurements, MATRIX input. */
export function trainPenguinClusters(penguins: EndpointData): Trained {
  const numericFeatures = penguins.features.filter((f) => f.type === 'NUMERIC');
  const columns = fitColumns(penguins.data.records, numericFeatures, { standardize: true });
  const X = encodeRows(penguins.data.records, columns);
  const centroids = kmeansCentroids(X, 3, 20261115);
  const id = 'penguin-clusters';
  return {
    onnx: kmeansOnnx(id, centroids),
    file: fileName(id),
    inputs: { mode: 'MATRIX', input: 'X', columns },
    outputs: { label: 'label' },
    ref: { endpoint: id, generation: 'v2', predictionType: 'CLUSTERING', columns, clusters: centroids.map((_, k) => `cluster_${k}`), model: { kind: 'kmeans', centroids } },
  };
}
