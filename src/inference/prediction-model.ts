import type { ExplanationBackground, PredictionEndpointSpec, PredictionResult } from '@apinode/protocol';
import { compileDecoder, firstNonFinite, type Decoder, type RawOutput } from './decode.js';
import { compileEncoder, type Encoder, type FeatureRecord } from './encoding.js';
import { Explainer, type ExplainRequest } from './explain/explainer.js';
import type { Perturbation } from './explain/perturbation.js';
import type { ModelRuntime, ModelSession, TensorValue } from './model-runtime.js';
import { exposeZipMapInputs } from './onnx-rewrite.js';

export interface ScoreTiming {
  /** Microseconds. */
  preparation: number;
  prediction: number;
  postProcessing: number;
}

export interface Scored {
  /** One per record, in order; unusable records are { ignored: true, ignoreReason }. */
  results: PredictionResult[];
  timing: ScoreTiming;
}

const us = (from: number) => Math.round((performance.now() - from) * 1000);

/**
 * Explanation rows per model run. A typical request's perturbations (a few hundred rows per
 * record) fit in one run; a large predict-multi is split so memory stays bounded.
 */
const MAX_EXPLAIN_ROWS = 1 << 16;

/** A prediction endpoint's model, loaded and checked against its manifest entry. */
export class PredictionModel {
  private constructor(
    private readonly session: ModelSession,
    private readonly encoder: Encoder,
    private readonly decoder: Decoder,
    /** Rows per run when the model's batch dimension is fixed (legacy exports); null when dynamic. */
    private readonly fixedBatch: number | null,
    readonly bytes: number,
    /** Null when the manifest gives the endpoint no explanation background. */
    readonly explainer: Explainer | null,
  ) {}

  /**
   * Loads the ONNX bytes (exposing the tensors behind ZipMap outputs, which onnxruntime-web
   * cannot read) and compiles the encoder and decoder; throws a clear Error on any mismatch.
   */
  static async load(spec: PredictionEndpointSpec, onnx: Uint8Array, runtime: ModelRuntime, background?: ExplanationBackground): Promise<PredictionModel> {
    const rewritten = exposeZipMapInputs(onnx);
    const aliases = new Map(rewritten.zipMaps.map((z) => [z.zipMapOutput, z.probabilities]));
    const session = await runtime.load(rewritten.bytes);
    try {
      const encoder = compileEncoder(spec, session.inputs);
      const decoder = compileDecoder(spec, session.outputs, aliases);
      const batchDims = new Set(session.inputs.map((i) => i.dims?.[0] ?? null));
      const fixed = [...batchDims].find((d) => d !== null) ?? null;
      const explainer = spec.explanations && background ? compileExplainer(spec, background, decoder.raw, encoder) : null;
      return new PredictionModel(session, encoder, decoder, fixed, rewritten.bytes.byteLength, explainer);
    } catch (e) {
      session.release();
      throw e;
    }
  }

  /**
   * Scores a batch in one model run (or fixed-size runs for models that demand it). With
   * `explain`, every usable record is explained too: all their perturbed rows are scored
   * together, in one more run (more only past MAX_EXPLAIN_ROWS).
   */
  async score(records: readonly FeatureRecord[], explain?: ExplainRequest | null): Promise<Scored> {
    let t = performance.now();
    const batch = this.encoder.encode(records);
    const timing: ScoreTiming = { preparation: us(t), prediction: 0, postProcessing: 0 };
    t = performance.now();
    const outputs = batch.rows.length === 0 ? [] : await this.run(batch.feeds, batch.rows.length);
    timing.prediction = us(t);
    t = performance.now();
    const decoded = outputs.flatMap(([out, n]) => this.decoder.decode(out, n));
    const results: PredictionResult[] = new Array(records.length);
    batch.rows.forEach((r, k) => (results[r] = decoded[k] as PredictionResult));
    for (const [r, reason] of batch.ignored) results[r] = { ignored: true, ignoreReason: reason };
    timing.postProcessing = us(t);
    // Records the model answered a non-finite number for are ignored: nothing to explain.
    const scoredRows = batch.rows.filter((r) => !results[r]!.ignored);
    if (explain && scoredRows.length > 0) {
      if (!this.explainer) throw new Error('this model was loaded without an explanation background');
      await this.explain(this.explainer, scoredRows.map((r) => [r, records[r] as FeatureRecord]), results, explain, timing);
    }
    return { results, timing };
  }

  /** Adds `explanations` to the results of `items` ([index, record]), packing their perturbations into as few runs as possible. */
  private async explain(explainer: Explainer, items: [number, FeatureRecord][], results: PredictionResult[], req: ExplainRequest, timing: ScoreTiming): Promise<void> {
    const raw = this.decoder.raw as RawOutput;
    let group: [number, Perturbation][] = [];
    let size = 0;
    const flush = async () => {
      let t = performance.now();
      const rows = group.flatMap(([, p]) => p.rows);
      const batch = this.encoder.encode(rows);
      if (batch.ignored.size > 0) throw new Error(`an explanation row cannot be encoded: ${[...batch.ignored.values()][0]}`);
      timing.preparation += us(t);
      t = performance.now();
      const values = new Float64Array(rows.length * raw.width);
      let at = 0;
      for (const [out, n] of await this.run(batch.feeds, rows.length)) {
        values.set(raw.read(out, n), at * raw.width);
        at += n;
      }
      timing.prediction += us(t);
      t = performance.now();
      let start = 0;
      for (const [r, p] of group) {
        const contributions = p.contributions(explainer.scale(values, start, p.rows.length));
        if (firstNonFinite(contributions, 0, contributions.length) === null) (results[r] as PredictionResult).explanations = explainer.strongest(contributions, req.nExplanations);
        else results[r] = { ignored: true, ignoreReason: "the model's output is not a finite number for a perturbed copy of this record: it cannot be explained" };
        start += p.rows.length;
      }
      timing.postProcessing += us(t);
      group = [];
      size = 0;
    };
    for (const [r, x] of items) {
      const t = performance.now();
      const p = explainer.perturb(x, req);
      timing.preparation += us(t);
      if (size > 0 && size + p.rows.length > MAX_EXPLAIN_ROWS) await flush();
      group.push([r, p]);
      size += p.rows.length;
    }
    await flush();
  }

  release(): void {
    this.session.release();
  }

  private async run(feeds: Record<string, TensorValue>, rows: number): Promise<[Record<string, TensorValue>, number][]> {
    const fixed = this.fixedBatch;
    if (fixed === null || fixed === rows) return [[await this.session.run(feeds, this.decoder.fetches), rows]];
    const runs: [Record<string, TensorValue>, number][] = [];
    for (let start = 0; start < rows; start += fixed) {
      const n = Math.min(fixed, rows - start);
      const chunk: Record<string, TensorValue> = {};
      for (const [name, t] of Object.entries(feeds)) chunk[name] = sliceRows(t, start, n, fixed);
      const out = await this.session.run(chunk, this.decoder.fetches);
      runs.push([trimRows(out, n, fixed), n]);
    }
    return runs;
  }
}

/** Builds the explainer and checks at load that every background value encodes. */
function compileExplainer(spec: PredictionEndpointSpec, background: ExplanationBackground, raw: RawOutput | null, encoder: Encoder): Explainer {
  if (!raw) throw new Error('explanations need class probabilities or a regression output');
  const explainer = new Explainer(spec, background, raw);
  const check = encoder.encode(explainer.backgroundRecords());
  const [bad] = check.ignored;
  if (bad) throw new Error(`explanation background: ${bad[1]}`);
  return explainer;
}

/** Rows [start, start+n) of t, padded to `size` rows by repeating the last one. */
function sliceRows(t: TensorValue, start: number, n: number, size: number): TensorValue {
  const width = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const idx = Array.from({ length: size * width }, (_, j) => (start + Math.min(Math.floor(j / width), n - 1)) * width + (j % width));
  const data = Array.isArray(t.data)
    ? idx.map((j) => t.data[j] as string)
    : (() => {
        const src = t.data as Float32Array;
        const dst = new (src.constructor as Float32ArrayConstructor)(idx.length);
        idx.forEach((j, k) => (dst[k] = src[j] as number));
        return dst;
      })();
  return { type: t.type, data, dims: [size, ...t.dims.slice(1)] };
}

function trimRows(out: Record<string, TensorValue>, n: number, size: number): Record<string, TensorValue> {
  if (n === size) return out;
  const trimmed: Record<string, TensorValue> = {};
  for (const [name, t] of Object.entries(out)) {
    const width = t.data.length / size;
    const data = Array.isArray(t.data) ? t.data.slice(0, n * width) : (t.data as Float32Array).subarray(0, n * width);
    trimmed[name] = { type: t.type, data, dims: [n, ...t.dims.slice(1)] };
  }
  return trimmed;
}
