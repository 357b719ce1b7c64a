/** Training metrics, threshold choice and probability percentiles. */

export function accuracy(predicted: number[], actual: number[]): number {
  return predicted.filter((p, i) => p === actual[i]).length / actual.length;
}

/** Area under the ROC curve (ties count one half), y in {0,1}. */
export function auc(scores: number[], y: number[]): number {
  const order = scores.map((s, i) => [s, y[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let nPos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) {
      if (order[t]![1] === 1) {
        rankSum += avgRank;
        nPos++;
      }
    }
    i = j;
  }
  const nNeg = order.length - nPos;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function rmse(predicted: number[], actual: number[]): number {
  return Math.sqrt(predicted.reduce((s, p, i) => s + (p - actual[i]!) ** 2, 0) / actual.length);
}

export function r2(predicted: number[], actual: number[]): number {
  const mu = actual.reduce((a, b) => a + b, 0) / actual.length;
  const ssTot = actual.reduce((s, a) => s + (a - mu) ** 2, 0);
  const ssRes = predicted.reduce((s, p, i) => s + (p - actual[i]!) ** 2, 0);
  return 1 - ssRes / ssTot;
}

/** Threshold in {0.01, ..., 0.99} maximising F1 of the positive class on the training data. */
export function bestF1Threshold(p1: number[], y: number[]): { threshold: number; f1: number } {
  let best = { threshold: 0.5, f1: -1 };
  for (let t = 1; t < 100; t++) {
    const thr = t / 100;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    p1.forEach((p, i) => {
      const pred = p >= thr;
      if (pred && y[i] === 1) tp++;
      else if (pred) fp++;
      else if (y[i] === 1) fn++;
    });
    const f1 = (2 * tp) / (2 * tp + fp + fn);
    if (f1 > best.f1) best = { threshold: thr, f1 };
  }
  return best;
}

/** The 100 quantiles q = 0.01 .. 1.00 (nearest rank), rounded to 6 decimals. */
export function percentiles(values: number[]): number[] {
  const s = [...values].sort((a, b) => a - b);
  return Array.from({ length: 100 }, (_, i) => {
    const q = (i + 1) / 100;
    const idx = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
    return Number(s[idx]!.toFixed(6));
  });
}
