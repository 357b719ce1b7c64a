/**
 * Independent reference scorer for the demo models: computes an endpoint's answer in plain
 * JavaScript from raw feature values and the trained parameters stored in
 * examples/demo/reference/<generation>/<endpoint>.json. No onnxruntime, no node code: tests
 * compare the node's HTTP answers with this.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type RefColumn =
  | { feature: string; impute?: number; shift: number; scale: number }
  | { feature: string; oneHot: string[]; impute?: string; unknown?: 'ZEROS' };

/** Tree node: x[feature] <= threshold (float32 comparison) goes to `yes`, else `no`; or a leaf. */
export type RefTreeNode = { id: number; feature: number; threshold: number; yes: number; no: number } | { id: number; leaf: number };

export type RefModel =
  | { kind: 'linear'; link: 'softmax' | 'logistic' | 'identity'; coefficients: number[][]; intercepts: number[] }
  | { kind: 'trees'; link: 'softmax' | 'logistic' | 'identity'; baseValues: number[]; trees: { target: number; nodes: RefTreeNode[] }[] }
  | { kind: 'kmeans'; centroids: number[][] };

export interface Reference {
  endpoint: string;
  generation: string;
  predictionType: 'MULTICLASS' | 'BINARY_CLASSIFICATION' | 'REGRESSION' | 'CLUSTERING';
  /** classification: class labels in score order; binary: score 0 is the log-odds of classes[1] */
  classes?: string[];
  threshold?: number;
  /** clustering: cluster names by index */
  clusters?: string[];
  /** encoding of raw features into the model's feature vector (same semantics as manifest MATRIX columns) */
  columns: RefColumn[];
  model: RefModel;
}

export interface ReferenceResult {
  prediction: string | number;
  probas?: Record<string, number>;
  cluster?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadReference(gen: string, endpoint: string): Reference {
  return JSON.parse(readFileSync(join(here, 'demo', 'reference', gen, `${endpoint}.json`), 'utf8')) as Reference;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function asCategory(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Raw features -> feature vector: numeric ((v ?? impute) - shift) * scale, categorical one-hot. */
export function encodeFeatures(columns: RefColumn[], features: Record<string, unknown>): number[] {
  const x: number[] = [];
  for (const c of columns) {
    const raw = features[c.feature];
    if ('oneHot' in c) {
      const cat = asCategory(raw) ?? c.impute;
      for (const k of c.oneHot) x.push(cat === k ? 1 : 0);
    } else {
      const v = asNumber(raw) ?? c.impute ?? NaN;
      x.push((v - c.shift) * c.scale);
    }
  }
  return x;
}

function treeLeaf(nodes: RefTreeNode[], x: number[]): number {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let n = byId.get(0)!;
  // ONNX Runtime compares float32 inputs with float32 thresholds; NaN goes to the "no" branch.
  while (!('leaf' in n)) n = byId.get(Math.fround(x[n.feature]!) <= Math.fround(n.threshold) ? n.yes : n.no)!;
  return n.leaf;
}

function rawScores(model: RefModel, x: number[]): number[] {
  if (model.kind === 'linear') {
    return model.coefficients.map((row, k) => row.reduce((s, w, j) => s + w * x[j]!, model.intercepts[k]!));
  }
  if (model.kind === 'trees') {
    const scores = [...model.baseValues];
    for (const t of model.trees) scores[t.target]! += treeLeaf(t.nodes, x);
    return scores;
  }
  return model.centroids.map((c) => c.reduce((s, cj, j) => s + (x[j]! - cj) ** 2, 0));
}

export function referenceScore(ref: unknown, features: Record<string, unknown>): ReferenceResult {
  const r = ref as Reference;
  const x = encodeFeatures(r.columns, features);
  const scores = rawScores(r.model, x);
  if (r.predictionType === 'CLUSTERING') {
    let best = 0;
    scores.forEach((d, k) => (d < scores[best]! ? (best = k) : undefined));
    return { prediction: best, cluster: r.clusters?.[best] ?? `cluster_${best}` };
  }
  if (r.predictionType === 'REGRESSION') return { prediction: scores[0]! };
  const classes = r.classes!;
  let p: number[];
  if (r.predictionType === 'BINARY_CLASSIFICATION') {
    const p1 = 1 / (1 + Math.exp(-scores[0]!));
    p = [1 - p1, p1];
  } else {
    const m = Math.max(...scores);
    const e = scores.map((s) => Math.exp(s - m));
    const t = e.reduce((a, b) => a + b, 0);
    p = e.map((v) => v / t);
  }
  const probas = Object.fromEntries(classes.map((c, k) => [c, p[k]!]));
  let k = 0;
  if (r.predictionType === 'BINARY_CLASSIFICATION') k = p[1]! >= (r.threshold ?? 0.5) ? 1 : 0;
  else p.forEach((v, i) => (v > p[k]! ? (k = i) : undefined));
  return { prediction: classes[k]!, probas };
}

/**
 * stock-forecast: a linear model per horizon step on the window's values relative to its last
 * value (x / last - 1), predicting relative changes; quantiles add per-step residual quantiles.
 */
export interface ForecastReference {
  endpoint: string;
  generation: string;
  windowLength: number;
  horizon: number;
  quantiles: number[];
  /** weights[j][h]: window position j (oldest first) for horizon step h */
  weights: number[][];
  bias: number[];
  /** offsets[h][q]: added to the relative point forecast of step h for quantile q */
  offsets: number[][];
}

export function referenceForecast(ref: ForecastReference, window: readonly number[]): { forecast: number[]; quantilesValues: number[][] } {
  if (window.length !== ref.windowLength) throw new Error(`window of ${window.length} values, the model reads ${ref.windowLength}`);
  const last = window[window.length - 1]!;
  const x = window.map((v) => v / last - 1);
  const rel = ref.bias.map((b, h) => x.reduce((s, xj, j) => s + xj * ref.weights[j]![h]!, b));
  return {
    forecast: rel.map((r) => last * (1 + r)),
    quantilesValues: ref.quantiles.map((_, q) => rel.map((r, h) => last * (1 + r + ref.offsets[h]![q]!))),
  };
}

/** A T-learner: one linear regressor per arm on the same encoded features; the effect is treated - control. */
export interface CausalReference {
  endpoint: string;
  generation: string;
  columns: RefColumn[];
  treated: { coefficients: number[]; intercept: number };
  control: { coefficients: number[]; intercept: number };
  /** The semi-synthetic truth the data was built with: effect = base + perUnit * (feature - from). */
  trueEffect: { feature: string; base: number; perUnit: number; from: number };
}

export function referenceEffect(ref: CausalReference, features: Record<string, unknown>): { prediction: number; outcomeTreated: number; outcomeControl: number } {
  const x = encodeFeatures(ref.columns, features);
  const lin = (m: { coefficients: number[]; intercept: number }) => m.coefficients.reduce((s, w, j) => s + w * x[j]!, m.intercept);
  const outcomeTreated = lin(ref.treated);
  const outcomeControl = lin(ref.control);
  return { prediction: outcomeTreated - outcomeControl, outcomeTreated, outcomeControl };
}

export function loadReferenceAs<R>(gen: string, endpoint: string): R {
  return JSON.parse(readFileSync(join(here, 'demo', 'reference', gen, `${endpoint}.json`), 'utf8')) as R;
}
