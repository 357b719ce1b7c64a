import type { ExplanationBackground, ExplanationMethod, ExplanationsParams, PredictionEndpointSpec } from '@apinode/protocol';
import type { RawOutput } from '../decode.js';
import type { FeatureRecord } from '../encoding.js';
import { compileBackground, type Background } from './background.js';
import { icePerturbation } from './ice.js';
import type { Perturbation } from './perturbation.js';
import { mulberry32, seedOf } from './random.js';
import { shapleyPerturbation } from './shapley.js';

/** What one request asks for, its null fields filled from the endpoint's defaults. */
export interface ExplainRequest {
  readonly method: ExplanationMethod;
  readonly nExplanations: number;
  readonly nMonteCarloSteps: number;
}

/**
 * A request's explanation parameters resolved against the endpoint's manifest defaults:
 * null when nothing is to be explained, a reason string when explanations were asked for
 * but the endpoint cannot give them.
 */
export function resolveExplanations(params: ExplanationsParams | undefined, spec: PredictionEndpointSpec): ExplainRequest | null | string {
  const defaults = spec.explanations;
  const enabled = params?.enabled ?? defaults?.enabled ?? false;
  if (!enabled) return null;
  if (!defaults) return `endpoint "${spec.id}" has no explanation background in this generation`;
  return {
    method: params?.method ?? defaults.method,
    nExplanations: params?.nExplanations ?? defaults.nExplanations,
    nMonteCarloSteps: params?.nMonteCarloSteps ?? defaults.nMonteCarloSteps,
  };
}

/** Floor of both terms of the log-odds, so that they stay finite (|log-odds| <= 16.1). */
const EPSILON = 1e-7;

/**
 * Model-agnostic explanations of one endpoint's model, compiled at load: the explained
 * features (those the model reads), the background, and the scale explained:
 * regression: the prediction; binary: log-odds of classes[1]; multiclass: log-odds of the
 * probability of the class predicted for the explained record.
 */
export class Explainer {
  readonly features: readonly string[];
  private readonly background: Background;
  /** Column of the explained probability for binary classification; multiclass picks the predicted one. */
  private readonly positive: number | null;

  constructor(
    spec: PredictionEndpointSpec,
    background: ExplanationBackground,
    private readonly raw: RawOutput,
  ) {
    this.features = [...new Set(spec.model.inputs.columns.map((c) => c.feature))];
    this.background = compileBackground(background, this.features);
    this.positive = spec.predictionType === 'BINARY_CLASSIFICATION' ? 1 : null;
  }

  /** Records that exercise every background value, to check at load that they all encode. */
  backgroundRecords(): FeatureRecord[] {
    const first = this.background.rows[0] as FeatureRecord;
    return [...this.background.rows, ...this.features.flatMap((f, j) => this.background.ice[j]!.values.map((v) => ({ ...first, [f]: v })))];
  }

  /** The rows to score for one record; seeded from the record's explained values, so the same record always gets the same answer. */
  perturb(x: FeatureRecord, req: ExplainRequest): Perturbation {
    if (req.method === 'ICE') return icePerturbation(x, this.features, this.background);
    const rng = mulberry32(seedOf(JSON.stringify(this.features.map((f) => x[f] ?? null))));
    return shapleyPerturbation(x, this.features, this.background, req.nMonteCarloSteps, rng);
  }

  /**
   * Scores of `n` rows on the explained scale, from the raw outputs starting at row `start`
   * (the explained record first, which picks the class for multiclass).
   */
  scale(values: ArrayLike<number>, start: number, n: number): Float64Array {
    const w = this.raw.width;
    const g = new Float64Array(n);
    if (w === 1) {
      for (let i = 0; i < n; i++) g[i] = values[start + i]!;
      return g;
    }
    let c = this.positive ?? 0;
    if (this.positive === null) for (let k = 1; k < w; k++) if (values[start * w + k]! > values[start * w + c]!) c = k;
    // log(p / (1 - p)) with 1 - p summed from the other classes: a float32 p near 1 has lost
    // the digits of 1 - p, the other classes' own probabilities have not.
    for (let i = 0; i < n; i++) {
      const row = (start + i) * w;
      let rest = 0;
      for (let k = 0; k < w; k++) if (k !== c) rest += values[row + k]!;
      g[i] = Math.log(Math.max(EPSILON, values[row + c]!)) - Math.log(Math.max(EPSILON, rest));
    }
    return g;
  }

  /** The n strongest contributions by absolute value, strongest first (ties in feature order). */
  strongest(contributions: Float64Array, n: number): Record<string, number> {
    const idx = this.features.map((_, j) => j).sort((a, b) => Math.abs(contributions[b]!) - Math.abs(contributions[a]!) || a - b);
    const out: Record<string, number> = {};
    for (const j of idx.slice(0, n)) out[this.features[j]!] = contributions[j]!;
    return out;
  }
}
