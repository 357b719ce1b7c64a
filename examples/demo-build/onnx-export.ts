/** Turns trained parameters into ONNX graphs (plain tensors out, no ZipMap). */
import { attr, buildModel, ElemType, type OnnxNode, type ValueInfo } from './onnx-builder.js';
import { isOneHot, type Column } from './encoding.js';
import type { LinearModel } from './linear.js';
import type { Ensemble } from './trees.js';

const ML = 'ai.onnx.ml';
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const matrixInput = (width: number): ValueInfo => ({ name: 'X', elemType: ElemType.FLOAT, dims: ['N', width] });
const labelOut: ValueInfo = { name: 'label', elemType: ElemType.INT64, dims: ['N'] };
const probaOut = (k: number): ValueInfo => ({ name: 'probabilities', elemType: ElemType.FLOAT, dims: ['N', k] });
const predictionOut: ValueInfo = { name: 'prediction', elemType: ElemType.FLOAT, dims: ['N', 1] };

/** LinearClassifier on a float matrix X; binary models have one coefficient row (ORT then outputs 2 columns). */
export function linearClassifierOnnx(name: string, m: LinearModel, width: number, nClasses: number): Uint8Array {
  const post = nClasses === 2 ? 'LOGISTIC' : 'SOFTMAX';
  return buildModel({
    name,
    nodes: [
      {
        opType: 'LinearClassifier',
        domain: ML,
        inputs: ['X'],
        outputs: ['label', 'probabilities'],
        attrs: [
          attr.floats('coefficients', m.coefficients.flat()),
          attr.floats('intercepts', m.intercepts),
          attr.ints('classlabels_ints', range(nClasses)),
          attr.i('multi_class', 0),
          attr.s('post_transform', post),
        ],
      },
    ],
    inputs: [matrixInput(width)],
    outputs: [labelOut, probaOut(nClasses)],
  });
}

export function linearRegressorOnnx(name: string, m: LinearModel, width: number): Uint8Array {
  return buildModel({
    name,
    nodes: [
      {
        opType: 'LinearRegressor',
        domain: ML,
        inputs: ['X'],
        outputs: ['prediction'],
        attrs: [attr.floats('coefficients', m.coefficients.flat()), attr.floats('intercepts', m.intercepts), attr.i('targets', 1)],
      },
    ],
    inputs: [matrixInput(width)],
    outputs: [predictionOut],
  });
}

/** One [N,1] input per feature; Imputer for numerics, OneHotEncoder (+Reshape) for categories, Concat -> "features". */
function preprocessing(columns: Column[]): { nodes: OnnxNode[]; inputs: ValueInfo[]; shapes: { name: string; k: number }[] } {
  const nodes: OnnxNode[] = [];
  const inputs: ValueInfo[] = [];
  const shapes: { name: string; k: number }[] = [];
  const parts: string[] = [];
  for (const c of columns) {
    if (isOneHot(c)) {
      inputs.push({ name: c.feature, elemType: ElemType.STRING, dims: ['N', 1] });
      const shape = `shape_${c.feature}`;
      shapes.push({ name: shape, k: c.oneHot.length });
      nodes.push(
        { opType: 'OneHotEncoder', domain: ML, inputs: [c.feature], outputs: [`${c.feature}_onehot`], attrs: [attr.strings('cats_strings', c.oneHot), attr.i('zeros', 1)] },
        { opType: 'Reshape', inputs: [`${c.feature}_onehot`, shape], outputs: [`${c.feature}_encoded`] },
      );
    } else {
      if (c.shift !== 0 || c.scale !== 1 || c.impute === undefined) throw new Error(`tree column ${c.feature}: expected impute only`);
      inputs.push({ name: c.feature, elemType: ElemType.FLOAT, dims: ['N', 1] });
      nodes.push({
        opType: 'Imputer',
        domain: ML,
        inputs: [c.feature],
        outputs: [`${c.feature}_encoded`],
        attrs: [attr.floats('imputed_value_floats', [c.impute]), attr.f('replaced_value_float', NaN)],
      });
    }
    parts.push(`${c.feature}_encoded`);
  }
  nodes.push({ opType: 'Concat', inputs: parts, outputs: ['features'], attrs: [attr.i('axis', 1)] });
  return { nodes, inputs, shapes };
}

function treeNodeAttrs(e: Ensemble) {
  const col = { tree: [] as number[], id: [] as number[], feature: [] as number[], mode: [] as string[], value: [] as number[], yes: [] as number[], no: [] as number[] };
  const leaf = { tree: [] as number[], id: [] as number[], target: [] as number[], weight: [] as number[] };
  e.trees.forEach((tree, ti) => {
    for (const n of tree.nodes) {
      const isLeaf = 'leaf' in n;
      col.tree.push(ti);
      col.id.push(n.id);
      col.feature.push(isLeaf ? 0 : n.feature);
      col.mode.push(isLeaf ? 'LEAF' : 'BRANCH_LEQ');
      col.value.push(isLeaf ? 0 : n.threshold);
      col.yes.push(isLeaf ? 0 : n.yes);
      col.no.push(isLeaf ? 0 : n.no);
      if (isLeaf) {
        leaf.tree.push(ti);
        leaf.id.push(n.id);
        leaf.target.push(tree.target);
        leaf.weight.push(n.leaf);
      }
    }
  });
  const nodes = [
    attr.ints('nodes_treeids', col.tree),
    attr.ints('nodes_nodeids', col.id),
    attr.ints('nodes_featureids', col.feature),
    attr.strings('nodes_modes', col.mode),
    attr.floats('nodes_values', col.value),
    attr.ints('nodes_truenodeids', col.yes),
    attr.ints('nodes_falsenodeids', col.no),
  ];
  return { nodes, leafTree: leaf.tree, leafNode: leaf.id, leafTarget: leaf.target, leafWeight: leaf.weight };
}

export function treeEnsembleOnnx(name: string, e: Ensemble, columns: Column[], kind: 'classifier' | 'regressor', nClasses = 0): Uint8Array {
  const pre = preprocessing(columns);
  const a = treeNodeAttrs(e);
  const treeNode: OnnxNode =
    kind === 'classifier'
      ? {
          opType: 'TreeEnsembleClassifier',
          domain: ML,
          inputs: ['features'],
          outputs: ['label', 'probabilities'],
          attrs: [
            ...a.nodes,
            attr.ints('class_treeids', a.leafTree),
            attr.ints('class_nodeids', a.leafNode),
            attr.ints('class_ids', a.leafTarget),
            attr.floats('class_weights', a.leafWeight),
            attr.ints('classlabels_int64s', range(nClasses)),
            attr.floats('base_values', e.baseValues),
            attr.s('post_transform', nClasses === 2 ? 'LOGISTIC' : 'SOFTMAX'),
          ],
        }
      : {
          opType: 'TreeEnsembleRegressor',
          domain: ML,
          inputs: ['features'],
          outputs: ['prediction'],
          attrs: [
            ...a.nodes,
            attr.ints('target_treeids', a.leafTree),
            attr.ints('target_nodeids', a.leafNode),
            attr.ints('target_ids', a.leafTarget),
            attr.floats('target_weights', a.leafWeight),
            attr.i('n_targets', 1),
            attr.floats('base_values', e.baseValues),
            attr.s('aggregate_function', 'SUM'),
            attr.s('post_transform', 'NONE'),
          ],
        };
  return buildModel({
    name,
    nodes: [...pre.nodes, treeNode],
    initializers: pre.shapes.map((s) => ({ name: s.name, dims: [2], type: 'INT64' as const, values: [-1, s.k] })),
    inputs: pre.inputs,
    outputs: kind === 'classifier' ? [labelOut, probaOut(nClasses)] : [predictionOut],
  });
}

/** k-means assignment: squared distance of X [N,d] to each centroid, ArgMin -> int64 label. */
export function kmeansOnnx(name: string, centroids: number[][]): Uint8Array {
  const k = centroids.length;
  const d = centroids[0]!.length;
  return buildModel({
    name,
    nodes: [
      { opType: 'Reshape', inputs: ['X', 'shape3'], outputs: ['X3'] },
      { opType: 'Sub', inputs: ['X3', 'centroids'], outputs: ['diff'] },
      { opType: 'Mul', inputs: ['diff', 'diff'], outputs: ['sq'] },
      { opType: 'ReduceSum', inputs: ['sq', 'axes'], outputs: ['distances'], attrs: [attr.i('keepdims', 0)] },
      { opType: 'ArgMin', inputs: ['distances'], outputs: ['label'], attrs: [attr.i('axis', 1), attr.i('keepdims', 0)] },
    ],
    initializers: [
      { name: 'shape3', dims: [3], type: 'INT64', values: [-1, 1, d] },
      { name: 'centroids', dims: [k, d], type: 'FLOAT', values: centroids.flat() },
      { name: 'axes', dims: [1], type: 'INT64', values: [2] },
    ],
    inputs: [matrixInput(d)],
    outputs: [labelOut, { name: 'distances', elemType: ElemType.FLOAT, dims: ['N', k] }],
  });
}
