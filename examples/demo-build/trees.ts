/**
 * Gradient-boosted regression trees (exact greedy, level-wise, second-order leaf values),
 * enough for the small demo ensembles. Inputs are float32-exact values so that split
 * thresholds behave identically in ONNX Runtime (float32 comparisons).
 */
import { f32 } from './encoding.js';
import { softmax } from './linear.js';

/** Internal node: x[feature] <= threshold goes to `yes`, else `no`. Leaf: `leaf` value. */
export type TreeNode = { id: number; feature: number; threshold: number; yes: number; no: number } | { id: number; leaf: number };

export interface Tree {
  /** index of the score this tree adds to (class index for multiclass, 0 otherwise) */
  target: number;
  nodes: TreeNode[];
}

export interface Ensemble {
  baseValues: number[];
  trees: Tree[];
}

export interface BoostOptions {
  loss: 'squared' | 'logistic' | 'softmax';
  nClasses?: number;
  rounds: number;
  maxDepth: number;
  learningRate: number;
  lambda: number;
  minLeaf: number;
}

interface Candidate {
  gain: number;
  feature: number;
  threshold: number;
}

function fitTree(cols: Float64Array[], sorted: Int32Array[], g: Float64Array, h: Float64Array, opt: BoostOptions): TreeNode[] {
  const n = g.length;
  const nodes: TreeNode[] = [];
  const nodeOf = new Int32Array(n); // all samples start in node 0
  let level = [{ id: 0, G: 0, H: 0, C: 0 }];
  for (let i = 0; i < n; i++) {
    level[0]!.G += g[i]!;
    level[0]!.H += h[i]!;
    level[0]!.C += 1;
  }
  let nextId = 1;
  for (let depth = 0; level.length > 0; depth++) {
    const slot = new Int32Array(nextId + 1).fill(-1);
    level.forEach((nd, s) => (slot[nd.id] = s));
    const best: Candidate[] = level.map(() => ({ gain: 1e-9, feature: -1, threshold: 0 }));
    if (depth < opt.maxDepth) {
      for (let f = 0; f < cols.length; f++) {
        const x = cols[f]!;
        const gl = new Float64Array(level.length);
        const hl = new Float64Array(level.length);
        const cl = new Int32Array(level.length);
        const last = new Float64Array(level.length);
        for (const i of sorted[f]!) {
          const id = nodeOf[i]!;
          const s = id < 0 ? -1 : slot[id]!;
          if (s < 0) continue;
          const v = x[i]!;
          const nd = level[s]!;
          if (cl[s]! >= opt.minLeaf && v !== last[s]! && nd.C - cl[s]! >= opt.minLeaf) {
            const gr = nd.G - gl[s]!;
            const hr = nd.H - hl[s]!;
            const gain = gl[s]! ** 2 / (hl[s]! + opt.lambda) + gr ** 2 / (hr + opt.lambda) - nd.G ** 2 / (nd.H + opt.lambda);
            if (gain > best[s]!.gain) {
              let thr = Math.fround((last[s]! + v) / 2);
              if (thr >= v) thr = last[s]!;
              best[s] = { gain, feature: f, threshold: thr };
            }
          }
          gl[s]! += g[i]!;
          hl[s]! += h[i]!;
          cl[s]! += 1;
          last[s] = v;
        }
      }
    }
    const next: typeof level = [];
    const children = new Map<number, [number, number, number, number]>(); // id -> [yes, no, feature, thr]
    level.forEach((nd, s) => {
      const b = best[s]!;
      if (b.feature < 0) {
        nodes.push({ id: nd.id, leaf: f32((-nd.G / (nd.H + opt.lambda)) * opt.learningRate) });
        return;
      }
      const yes = nextId++;
      const no = nextId++;
      nodes.push({ id: nd.id, feature: b.feature, threshold: b.threshold, yes, no });
      children.set(nd.id, [yes, no, b.feature, b.threshold]);
      next.push({ id: yes, G: 0, H: 0, C: 0 }, { id: no, G: 0, H: 0, C: 0 });
    });
    const byId = new Map(next.map((nd) => [nd.id, nd]));
    for (let i = 0; i < n; i++) {
      const c = children.get(nodeOf[i]!);
      if (!c) {
        nodeOf[i] = -1;
        continue;
      }
      const to = cols[c[2]]![i]! <= c[3] ? c[0] : c[1];
      nodeOf[i] = to;
      const nd = byId.get(to)!;
      nd.G += g[i]!;
      nd.H += h[i]!;
      nd.C += 1;
    }
    level = next;
  }
  return nodes.sort((a, b) => a.id - b.id);
}

export function treeValue(nodes: TreeNode[], row: ArrayLike<number>): number {
  let nd = nodes[0]!;
  while (!('leaf' in nd)) nd = nodes[Math.fround(row[nd.feature]!) <= nd.threshold ? nd.yes : nd.no]!;
  return nd.leaf;
}

/** Trains a boosted ensemble. X rows must already be float32-exact (Math.fround) and free of NaN. */
export function boost(X: number[][], y: number[], opt: BoostOptions): Ensemble {
  const n = X.length;
  const d = X[0]!.length;
  const cols = Array.from({ length: d }, (_, j) => Float64Array.from(X, (r) => r[j]!));
  const sorted = cols.map((c) => Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => c[a]! - c[b]! || a - b)));
  const K = opt.loss === 'softmax' ? opt.nClasses! : 1;
  let baseValues: number[];
  if (opt.loss === 'squared') baseValues = [f32(y.reduce((a, b) => a + b, 0) / n)];
  else if (opt.loss === 'logistic') {
    const p = y.reduce((a, b) => a + b, 0) / n;
    baseValues = [f32(Math.log(p / (1 - p)))];
  } else {
    baseValues = Array.from({ length: K }, (_, k) => f32(Math.log(y.filter((v) => v === k).length / n)));
  }
  const F = Array.from({ length: K }, (_, k) => new Float64Array(n).fill(baseValues[k]!));
  const trees: Tree[] = [];
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  for (let round = 0; round < opt.rounds; round++) {
    const P = opt.loss === 'softmax' ? X.map((_, i) => softmax(F.map((Fk) => Fk[i]!))) : [];
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) {
        if (opt.loss === 'squared') {
          g[i] = F[0]![i]! - y[i]!;
          h[i] = 1;
        } else if (opt.loss === 'logistic') {
          const p = 1 / (1 + Math.exp(-F[0]![i]!));
          g[i] = p - y[i]!;
          h[i] = Math.max(p * (1 - p), 1e-6);
        } else {
          const p = P[i]![k]!;
          g[i] = p - (y[i] === k ? 1 : 0);
          h[i] = Math.max(p * (1 - p), 1e-6);
        }
      }
      const nodes = fitTree(cols, sorted, g, h, opt);
      trees.push({ target: k, nodes });
      for (let i = 0; i < n; i++) F[k]![i]! += treeValue(nodes, X[i]!);
    }
  }
  return { baseValues, trees };
}
