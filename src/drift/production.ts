import { DRIFT_MAX_RECORDS, type QueryLogLine } from '@apinode/protocol';

/** One scored record as the drift report compares it. */
export interface ProductionRecord {
  readonly generation: string;
  readonly features: Readonly<Record<string, unknown>>;
  /** result.prediction, or undefined when the record was ignored or answered none. */
  readonly prediction: unknown;
}

/** The production side of a report: counts over every line, and the records compared (all, or a uniform sample). */
export interface ProductionSample {
  total: number;
  ignored: number;
  errors: number;
  withoutFeatures: number;
  byGeneration: Record<string, number>;
  records: ProductionRecord[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the lines once, keeping at most `max` records: past it, reservoir sampling (Algorithm R)
 * keeps a uniform sample, so a window of millions of records is compared in bounded memory and
 * without favouring the objects listed first.
 */
export async function collectProduction(lines: AsyncIterable<QueryLogLine>, random: () => number, max = DRIFT_MAX_RECORDS): Promise<ProductionSample> {
  const s: ProductionSample = { total: 0, ignored: 0, errors: 0, withoutFeatures: 0, byGeneration: {}, records: [] };
  let seen = 0;
  for await (const line of lines) {
    if (line.status === 'error') {
      s.errors++;
      continue;
    }
    s.total++;
    s.byGeneration[line.generation] = (s.byGeneration[line.generation] ?? 0) + 1;
    const result = isRecord(line.result) ? line.result : {};
    if (result['ignored'] === true) s.ignored++;
    // A value too large to log is written as {truncated: true, bytes}: its features are unknown.
    if (!isRecord(line.features) || line.features['truncated'] === true) {
      s.withoutFeatures++;
      continue;
    }
    const record: ProductionRecord = { generation: line.generation, features: line.features, prediction: result['prediction'] };
    seen++;
    if (s.records.length < max) s.records.push(record);
    else {
      const j = Math.floor(random() * seen);
      if (j < max) s.records[j] = record;
    }
  }
  return s;
}

/** The generation that served the most records (ties: the last in lexical order, usually the newest); null for none. */
export function busiestGeneration(byGeneration: Readonly<Record<string, number>>): string | null {
  let best: string | null = null;
  for (const [g, n] of Object.entries(byGeneration)) {
    if (best === null || n > byGeneration[best]! || (n === byGeneration[best] && g > best)) best = g;
  }
  return best;
}
