import { DRIFT_THRESHOLDS, driftLevel, type DriftBin, type DriftReport, type ExplanationBackground, type FeatureDrift, type PredictionDistribution } from '@apinode/protocol';
import type { QueryLogReadStats } from '../observability/query-log-reader.js';
import type { ProductionRecord, ProductionSample } from './production.js';
import { countValue, featureReference, type FeatureReference } from './reference.js';
import { formatEdge, ksStatistic, psi, shares } from './stats.js';

/** What a generation says about one endpoint's inputs and answers: the reference side of a report. */
export interface DriftReference {
  readonly generation: string;
  readonly features: readonly { readonly name: string; readonly kind: 'NUMERIC' | 'CATEGORY' }[];
  readonly background: ExplanationBackground;
  readonly predictionKind: 'NUMERIC' | 'CATEGORY';
  /** Class labels in the model's order (classification), to order the prediction bins. */
  readonly classes?: readonly string[] | undefined;
}

export interface DriftScope {
  readonly serviceId: string;
  readonly endpointId: string;
  readonly generationFilter: string | null;
  readonly since: Date;
  readonly until: Date;
}

/** The report of a window: production sample against the reference, features sorted by drift. */
export function driftReport(scope: DriftScope, sample: ProductionSample, reference: DriftReference | null, read: QueryLogReadStats): DriftReport {
  const records = sample.records;
  const features = reference && records.length > 0 ? reference.features.map((f) => featureDrift(featureReference(f.name, f.kind, reference.background), records)) : [];
  features.sort((a, b) => b.psi - a.psi || (b.ks ?? 0) - (a.ks ?? 0) || (a.name < b.name ? -1 : 1));
  return {
    serviceId: scope.serviceId,
    endpointId: scope.endpointId,
    generation: reference?.generation ?? null,
    generationFilter: scope.generationFilter,
    window: { since: scope.since.toISOString(), until: scope.until.toISOString() },
    records: { total: sample.total, compared: records.length, byGeneration: sample.byGeneration, ignored: sample.ignored, errors: sample.errors, withoutFeatures: sample.withoutFeatures },
    read: { objects: read.objects, skippedLines: read.skippedLines, unreadableObjects: read.unreadableObjects },
    thresholds: { ...DRIFT_THRESHOLDS },
    features,
    prediction: reference && records.length > 0 ? predictionDistribution(records, reference) : null,
  };
}

function featureDrift(ref: FeatureReference, records: readonly ProductionRecord[]): FeatureDrift {
  const counts = new Array<number>(ref.shares.length).fill(0);
  const values: number[] = [];
  for (const r of records) {
    const x = countValue(ref, r.features[ref.name], counts);
    if (x !== null) values.push(x);
  }
  const production = shares(counts, records.length);
  const value = psi(ref.shares, production);
  const labels = binLabels(ref);
  // "(other)" and "(missing)" bins empty on both sides say nothing: they are left out of the chart (their PSI term is 0).
  const fixed = ref.kind === 'NUMERIC' ? ref.edges.length + 1 : ref.categories.length;
  const bins: DriftBin[] = labels.map((label, i) => ({ label, reference: ref.shares[i]!, production: production[i]! })).filter((b, i) => i < fixed || b.reference > 0 || b.production > 0);
  const ks = ref.kind === 'NUMERIC' ? ksStatistic(ref.sample, Float64Array.from(values).sort()) : Number.NaN;
  const missing = counts[counts.length - 1]!;
  return {
    name: ref.name,
    kind: ref.kind,
    psi: value,
    ks: Number.isNaN(ks) ? null : ks,
    level: driftLevel(value),
    referenceSource: ref.source,
    bins,
    counts: { production: records.length, productionMissing: missing, reference: ref.rows, referenceMissing: ref.rowsMissing },
  };
}

function binLabels(ref: FeatureReference): string[] {
  if (ref.kind === 'CATEGORY') return [...ref.categories, '(other)', '(missing)'];
  const e = ref.edges.map(formatEdge);
  if (e.length === 0) return ['all values', '(missing)'];
  return [`≤ ${e[0]}`, ...e.slice(1).map((hi, i) => `${e[i]} – ${hi}`), `> ${e[e.length - 1]}`, '(missing)'];
}

/** Bins of a numeric prediction's histogram: equal widths over the production range. */
const PREDICTION_BINS = 10;

/**
 * The production predictions only: the reference has no predictions to compare with (the
 * background rows are not scored when a generation is built, and scoring them here would need
 * the model in the admin function). Classes in the model's order, or ten equal-width bins.
 */
function predictionDistribution(records: readonly ProductionRecord[], reference: DriftReference): PredictionDistribution {
  if (reference.predictionKind === 'CATEGORY') {
    const counts = new Map<string, number>((reference.classes ?? []).map((c) => [c, 0]));
    let n = 0;
    for (const r of records) {
      if (r.prediction === undefined || r.prediction === null) continue;
      const label = String(r.prediction);
      counts.set(label, (counts.get(label) ?? 0) + 1);
      n++;
    }
    return { kind: 'CATEGORY', count: n, bins: [...counts].map(([label, c]) => ({ label, production: n > 0 ? c / n : 0 })) };
  }
  const xs = records.map((r) => (typeof r.prediction === 'number' && Number.isFinite(r.prediction) ? r.prediction : null)).filter((x): x is number => x !== null);
  if (xs.length === 0) return { kind: 'NUMERIC', count: 0, bins: [] };
  const lo = xs.reduce((a, b) => Math.min(a, b));
  const hi = xs.reduce((a, b) => Math.max(a, b));
  const width = (hi - lo) / PREDICTION_BINS;
  if (width === 0) return { kind: 'NUMERIC', count: xs.length, bins: [{ label: formatEdge(lo), production: 1 }] };
  const counts = new Array<number>(PREDICTION_BINS).fill(0);
  for (const x of xs) counts[Math.min(PREDICTION_BINS - 1, Math.floor((x - lo) / width))]!++;
  return {
    kind: 'NUMERIC',
    count: xs.length,
    bins: counts.map((c, i) => ({ label: `${formatEdge(lo + i * width)} – ${formatEdge(lo + (i + 1) * width)}`, production: c / xs.length })),
  };
}
