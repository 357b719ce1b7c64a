import type { ExplanationBackground } from '@apinode/protocol';
import type { FeatureRecord } from '../encoding.js';

/** ICE substitutes for one feature; weights sum to 1. */
export interface IceValues {
  readonly values: readonly unknown[];
  readonly weights: Float64Array;
}

/** A generation's background data, checked against the features the model reads. */
export interface Background {
  /** Background rows restricted to the explained features (Shapley). */
  readonly rows: readonly FeatureRecord[];
  /** ICE substitutes, one entry per explained feature, in the same order. */
  readonly ice: readonly IceValues[];
}

export function compileBackground(data: ExplanationBackground, features: readonly string[]): Background {
  const missing = features.filter((f) => !data.features[f]);
  if (missing.length) throw new Error(`the explanation background has no values for feature(s) ${missing.join(', ')}`);
  const ice = features.map((f) => {
    const { values, weights } = data.features[f] as { values: unknown[]; weights?: number[] | undefined };
    const w = Float64Array.from(weights ?? values.map(() => 1));
    const total = w.reduce((a, b) => a + b, 0);
    return { values, weights: w.map((x) => x / total) };
  });
  const rows = data.rows.map((r) => Object.fromEntries(features.map((f) => [f, r[f] ?? null])));
  return { rows, ice };
}
