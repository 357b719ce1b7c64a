/**
 * Explanation background of an endpoint (the generation's data/<endpoint>.json): rows drawn
 * from the training data for Shapley, and per feature the values ICE substitutes: the deciles
 * of a numeric feature, the most frequent categories of a categorical one, with their weights.
 */
import type { RawRecord } from './datasets.js';
import { categoriesByFrequency, type FeatureDef } from './encoding.js';
import { mulberry32, sampleIndices } from './rng.js';

export const BACKGROUND_ROWS = 100;
const TOP_CATEGORIES = 10;

export interface BackgroundFile {
  rows: RawRecord[];
  features: Record<string, { values: (string | number)[]; weights: number[] }>;
}

/** Deciles 10%..90% (nearest rank); equal deciles are merged, their weight is how many they were. */
function deciles(xs: number[]): { values: number[]; weights: number[] } {
  const s = [...xs].sort((a, b) => a - b);
  const values: number[] = [];
  const weights: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const v = s[Math.max(0, Math.ceil((q / 10) * s.length) - 1)]!;
    if (values[values.length - 1] === v) weights[weights.length - 1]! += 1;
    else {
      values.push(v);
      weights.push(1);
    }
  }
  return { values, weights };
}

export function buildBackground(records: RawRecord[], features: FeatureDef[], seed: number): BackgroundFile {
  const rows = sampleIndices(records.length, BACKGROUND_ROWS, mulberry32(seed)).map((i) => Object.fromEntries(features.map((f) => [f.name, records[i]![f.name] ?? null])));
  const stats: BackgroundFile['features'] = {};
  for (const f of features) {
    if (f.type === 'NUMERIC') {
      stats[f.name] = deciles(records.map((r) => r[f.name]).filter((v): v is number => typeof v === 'number'));
    } else {
      const top = categoriesByFrequency(records, f.name).slice(0, TOP_CATEGORIES);
      stats[f.name] = { values: top, weights: top.map((c) => records.filter((r) => r[f.name] === c).length) };
    }
  }
  return { rows, features: stats };
}

/** One background row per line: readable diffs, a tenth of the size of fully indented JSON. */
export function formatBackground(b: BackgroundFile): string {
  const rows = b.rows.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
  const features = Object.entries(b.features)
    .map(([name, s]) => `    ${JSON.stringify(name)}: ${JSON.stringify(s)}`)
    .join(',\n');
  return `{\n  "rows": [\n${rows}\n  ],\n  "features": {\n${features}\n  }\n}\n`;
}
