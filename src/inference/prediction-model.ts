import type { PredictionEndpointSpec, PredictionResult } from '@apinode/protocol';
import { compileDecoder, type Decoder } from './decode.js';
import { compileEncoder, type Encoder, type FeatureRecord } from './encoding.js';
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

/** A prediction endpoint's model, loaded and checked against its manifest entry. */
export class PredictionModel {
  private constructor(
    private readonly session: ModelSession,
    private readonly encoder: Encoder,
    private readonly decoder: Decoder,
    /** Rows per run when the model's batch dimension is fixed (legacy exports); null when dynamic. */
    private readonly fixedBatch: number | null,
    readonly bytes: number,
  ) {}

  /**
   * Loads the ONNX bytes (exposing the tensors behind ZipMap outputs, which onnxruntime-web
   * cannot read) and compiles the encoder and decoder; throws a clear Error on any mismatch.
   */
  static async load(spec: PredictionEndpointSpec, onnx: Uint8Array, runtime: ModelRuntime): Promise<PredictionModel> {
    const rewritten = exposeZipMapInputs(onnx);
    const aliases = new Map(rewritten.zipMaps.map((z) => [z.zipMapOutput, z.probabilities]));
    const session = await runtime.load(rewritten.bytes);
    try {
      const encoder = compileEncoder(spec, session.inputs);
      const decoder = compileDecoder(spec, session.outputs, aliases);
      const batchDims = new Set(session.inputs.map((i) => i.dims?.[0] ?? null));
      const fixed = [...batchDims].find((d) => d !== null) ?? null;
      return new PredictionModel(session, encoder, decoder, fixed, rewritten.bytes.byteLength);
    } catch (e) {
      session.release();
      throw e;
    }
  }

  /** Scores a batch in one model run (or fixed-size runs for models that demand it). */
  async score(records: readonly FeatureRecord[]): Promise<Scored> {
    let t = performance.now();
    const batch = this.encoder.encode(records);
    const preparation = us(t);
    t = performance.now();
    const outputs = batch.rows.length === 0 ? [] : await this.run(batch.feeds, batch.rows.length);
    const prediction = us(t);
    t = performance.now();
    const decoded = outputs.flatMap(([out, n]) => this.decoder.decode(out, n));
    const results: PredictionResult[] = new Array(records.length);
    batch.rows.forEach((r, k) => (results[r] = decoded[k] as PredictionResult));
    for (const [r, reason] of batch.ignored) results[r] = { ignored: true, ignoreReason: reason };
    return { results, timing: { preparation, prediction, postProcessing: us(t) } };
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
