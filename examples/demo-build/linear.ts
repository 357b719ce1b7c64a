/**
 * Linear models trained in plain TypeScript: multinomial logistic regression (gradient descent),
 * binary logistic regression (Newton / IRLS) and ridge regression (closed form).
 * All are deterministic: no randomness, fixed iteration counts.
 */
import { f32 } from './encoding.js';

export interface LinearModel {
  /** one row per output (class or single score), each of the matrix width */
  coefficients: number[][];
  intercepts: number[];
}

/** Solves A x = b (A square) by Gaussian elimination with partial pivoting. */
export function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r]![col]!) > Math.abs(M[piv]![col]!)) piv = r;
    [M[col], M[piv]] = [M[piv]!, M[col]!];
    const p = M[col]!;
    if (Math.abs(p[col]!) < 1e-12) throw new Error('singular system');
    for (let r = col + 1; r < n; r++) {
      const row = M[r]!;
      const factor = row[col]! / p[col]!;
      if (factor === 0) continue;
      for (let c = col; c <= n; c++) row[c]! -= factor * p[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = M[r]!;
    let s = row[n]!;
    for (let c = r + 1; c < n; c++) s -= row[c]! * x[c]!;
    x[r] = s / row[r]!;
  }
  return x;
}

/** Solves (Xa^T W Xa + L) beta = Xa^T W z where Xa = [X, 1] and the intercept is not penalized. */
function weightedRidge(X: number[][], z: number[], w: number[], l2: number): number[] {
  const d = X[0]!.length + 1;
  const A = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const rhs = new Array<number>(d).fill(0);
  X.forEach((row, i) => {
    const xa = [...row, 1];
    const wi = w[i]!;
    for (let a = 0; a < d; a++) {
      const wa = wi * xa[a]!;
      rhs[a]! += wa * z[i]!;
      const Aa = A[a]!;
      for (let b = a; b < d; b++) Aa[b]! += wa * xa[b]!;
    }
  });
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) A[a]![b] = A[b]![a]!;
  for (let a = 0; a < d - 1; a++) A[a]![a]! += l2;
  return solve(A, rhs);
}

const toModel = (beta: number[]): LinearModel => ({
  coefficients: [beta.slice(0, -1).map(f32)],
  intercepts: [f32(beta[beta.length - 1]!)],
});

/** Ridge regression, closed form. */
export function trainRidge(X: number[][], y: number[], l2: number): LinearModel {
  return toModel(weightedRidge(X, y, X.map(() => 1), l2));
}

const sigmoid = (s: number): number => 1 / (1 + Math.exp(-s));

/** Binary logistic regression (y in {0,1}) with an L2 penalty, by Newton's method (IRLS). */
export function trainLogistic(X: number[][], y: number[], l2: number, iterations = 12): LinearModel {
  const d = X[0]!.length;
  let beta = new Array<number>(d + 1).fill(0);
  for (let it = 0; it < iterations; it++) {
    const w: number[] = [];
    const z: number[] = [];
    X.forEach((row, i) => {
      let s = beta[d]!;
      for (let j = 0; j < d; j++) s += beta[j]! * row[j]!;
      const p = sigmoid(s);
      const wi = Math.max(p * (1 - p), 1e-6);
      w.push(wi);
      z.push(s + (y[i]! - p) / wi);
    });
    beta = weightedRidge(X, z, w, l2);
  }
  return toModel(beta);
}

/** Multinomial logistic regression (softmax), full-batch gradient descent with an L2 penalty. */
export function trainSoftmax(X: number[][], y: number[], nClasses: number, l2: number, iterations = 3000, rate = 0.5): LinearModel {
  const n = X.length;
  const d = X[0]!.length;
  const W = Array.from({ length: nClasses }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(nClasses).fill(0);
  for (let it = 0; it < iterations; it++) {
    const gW = Array.from({ length: nClasses }, () => new Array<number>(d).fill(0));
    const gb = new Array<number>(nClasses).fill(0);
    X.forEach((row, i) => {
      const p = softmax(W.map((wk, k) => wk.reduce((s, wj, j) => s + wj * row[j]!, b[k]!)));
      p.forEach((pk, k) => {
        const err = pk - (y[i] === k ? 1 : 0);
        gb[k]! += err;
        const g = gW[k]!;
        for (let j = 0; j < d; j++) g[j]! += err * row[j]!;
      });
    });
    for (let k = 0; k < nClasses; k++) {
      b[k]! -= (rate * gb[k]!) / n;
      for (let j = 0; j < d; j++) W[k]![j]! -= rate * (gW[k]![j]! / n + l2 * W[k]![j]!);
    }
  }
  return { coefficients: W.map((r) => r.map(f32)), intercepts: b.map(f32) };
}

export function softmax(scores: number[]): number[] {
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - m));
  const t = e.reduce((a, c) => a + c, 0);
  return e.map((v) => v / t);
}
