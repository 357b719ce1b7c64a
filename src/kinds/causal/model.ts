import type { CausalEndpointSpec, EffectResult, PredictionEndpointSpec } from '@apinode/protocol';
import { compileEncoder, type Encoder, type FeatureRecord } from '../../inference/encoding.js';
import type { ModelRuntime, ModelSession } from '../../inference/model-runtime.js';
import { find, numbers } from '../../inference/outputs.js';
import type { ScoreTiming } from '../../inference/prediction-model.js';

const us = (from: number) => Math.round((performance.now() - from) * 1000);

/** The causal endpoint's features and inputs, seen as the regression endpoint the encoder compiles. */
const asEncoded = (spec: CausalEndpointSpec): PredictionEndpointSpec => ({
  id: spec.id,
  type: 'STD_PREDICTION',
  predictionType: 'REGRESSION',
  features: spec.features,
  model: { file: spec.model.file, inputs: spec.model.inputs, outputs: {} },
  threshold: 0.5,
  examples: [],
  enrich: [],
});

/** A treatment-effect model: the effect, and the outcome under each arm when the model gives them. */
export class CausalModel {
  private constructor(
    private readonly session: ModelSession,
    private readonly encoder: Encoder,
    private readonly outputs: readonly (readonly [keyof EffectResult, string])[],
    readonly bytes: number,
  ) {}

  static async load(spec: CausalEndpointSpec, onnx: Uint8Array, runtime: ModelRuntime): Promise<CausalModel> {
    const session = await runtime.load(onnx);
    try {
      const encoder = compileEncoder(asEncoded(spec), session.inputs);
      const o = spec.model.outputs;
      const named: [keyof EffectResult, string | undefined][] = [['prediction', o.effect], ['outcomeTreated', o.treated], ['outcomeControl', o.control]];
      const outputs = named.filter((kv): kv is [keyof EffectResult, string] => kv[1] !== undefined);
      for (const [, name] of outputs) find(session.outputs, name, 'output');
      return new CausalModel(session, encoder, outputs, onnx.byteLength);
    } catch (e) {
      session.release();
      throw e;
    }
  }

  /** Scores all records in ONE model run; unusable records are answered { ignored, ignoreReason }. */
  async score(records: readonly FeatureRecord[]): Promise<{ results: EffectResult[]; timing: ScoreTiming }> {
    let t = performance.now();
    const batch = this.encoder.encode(records);
    const timing: ScoreTiming = { preparation: us(t), prediction: 0, postProcessing: 0 };
    t = performance.now();
    const n = batch.rows.length;
    const out = n ? await this.session.run(batch.feeds, this.outputs.map(([, name]) => name)) : {};
    timing.prediction = us(t);
    t = performance.now();
    const results: EffectResult[] = new Array(records.length);
    const columns = n ? this.outputs.map(([field, name]) => [field, numbers(out, name, n)] as const) : [];
    batch.rows.forEach((r, k) => {
      // JSON has no NaN: a null effect in a 200 would read as an answer.
      const bad = columns.find(([, values]) => !Number.isFinite(values[k]));
      if (bad) {
        results[r] = { ignored: true, ignoreReason: `the model's ${bad[0]} for this record is not a finite number (${bad[1][k]})` };
        return;
      }
      const result: EffectResult = { ignored: false };
      for (const [field, values] of columns) (result as Record<string, unknown>)[field] = values[k];
      results[r] = result;
    });
    for (const [r, reason] of batch.ignored) results[r] = { ignored: true, ignoreReason: reason };
    timing.postProcessing = us(t);
    return { results, timing };
  }

  release(): void {
    this.session.release();
  }
}

/** The import-time check: every example scores as declared. Returns the problems found. */
export async function checkCausalExamples(spec: CausalEndpointSpec, model: CausalModel): Promise<string[]> {
  if (spec.examples.length === 0) return [];
  const { results } = await model.score(spec.examples.map((e) => e.features));
  return spec.examples.flatMap((ex, i) => {
    const got = results[i] as EffectResult;
    const where = `endpoint "${spec.id}" example ${i}`;
    if ((ex.expected.ignored ?? false) !== got.ignored) return [`${where}: expected ignored=${ex.expected.ignored ?? false}, got ${got.ignored}${got.ignoreReason ? ` (${got.ignoreReason})` : ''}`];
    return (['prediction', 'outcomeTreated', 'outcomeControl'] as const).flatMap((k) => {
      const want = ex.expected[k];
      return want === undefined || Math.abs(want - (got[k] ?? NaN)) <= ex.tolerance ? [] : [`${where}: expected ${k} ${want}, got ${got[k]} (tolerance ${ex.tolerance})`];
    });
  });
}
