import type { PredictionEndpointSpec, PredictionResult } from '@apinode/protocol';
import { ModelError, type TensorInfo, type TensorValue } from './model-runtime.js';

/** Turns one model run's outputs into DSS-shaped results, one per row. */
export interface Decoder {
  /** The outputs to fetch: only tensors, only what the result needs. */
  readonly fetches: readonly string[];
  decode(outputs: Readonly<Record<string, TensorValue>>, rows: number): PredictionResult[];
  /** The numbers explanations work on: class probabilities (rows x classes) or the regression value (rows x 1); null when the model gives neither. */
  readonly raw: RawOutput | null;
}

export interface RawOutput {
  readonly width: number;
  read(outputs: Readonly<Record<string, TensorValue>>, rows: number): ArrayLike<number>;
}

/**
 * @param aliases model output names replaced when the model was loaded (ZipMap output -> the
 * probability tensor that fed it).
 */
export function compileDecoder(spec: PredictionEndpointSpec, outputs: readonly TensorInfo[], aliases: ReadonlyMap<string, string>): Decoder {
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const output = (name: string | undefined, what: string): string => {
    if (!name) throw new Error(`the manifest names no ${what} output`);
    const real = aliases.get(name) ?? name;
    const info = byName.get(real);
    if (!info) throw new Error(`the model has no output "${name}" (outputs: ${[...byName.keys()].join(', ')})`);
    if (!info.isTensor) throw new Error(`model output "${name}" is not a tensor; name the tensor output instead`);
    return real;
  };
  const o = spec.model.outputs;
  switch (spec.predictionType) {
    case 'REGRESSION': {
      const name = output(o.prediction, 'prediction');
      return {
        fetches: [name],
        decode: (out, rows) => {
          const data = numbers(out, name, rows, 1);
          return Array.from({ length: rows }, (_, i) => (Number.isFinite(data[i]) ? { prediction: data[i] as number, ignored: false } : notFinite(data[i]!)));
        },
        raw: { width: 1, read: (out, rows) => numbers(out, name, rows, 1) },
      };
    }
    case 'CLUSTERING': {
      const name = output(o.label, 'label');
      return {
        fetches: [name],
        decode: (out, rows) => {
          const data = numbers(out, name, rows, 1);
          return Array.from({ length: rows }, (_, i) => {
            const k = data[i] as number;
            if (!Number.isFinite(k)) return notFinite(k);
            return { cluster: spec.clusters?.[k] ?? `cluster_${k}`, ignored: false };
          });
        },
        raw: null,
      };
    }
    default:
      return o.probabilities ? probabilityDecoder(spec, output(o.probabilities, 'probabilities')) : labelDecoder(spec, output(o.label, 'label'));
  }
}

function probabilityDecoder(spec: PredictionEndpointSpec, name: string): Decoder {
  const classes = spec.classes ?? [];
  const k = classes.length;
  const binary = spec.predictionType === 'BINARY_CLASSIFICATION';
  const cuts = spec.probaPercentiles;
  return {
    fetches: [name],
    decode: (out, rows) => {
      const p = numbers(out, name, rows, k);
      const results: PredictionResult[] = new Array(rows);
      for (let i = 0; i < rows; i++) {
        const bad = firstNonFinite(p, i * k, k);
        if (bad !== null) {
          results[i] = notFinite(bad);
          continue;
        }
        const probas: Record<string, number> = {};
        let best = 0;
        for (let c = 0; c < k; c++) {
          const v = p[i * k + c] as number;
          probas[classes[c] as string] = v;
          if (v > (p[i * k + best] as number)) best = c;
        }
        const chosen = binary ? ((p[i * k + 1] as number) >= spec.threshold ? 1 : 0) : best;
        const r: PredictionResult = { prediction: classes[chosen] as string, probas, ignored: false };
        if (cuts) r.probaPercentile = percentile(cuts, p[i * k + (binary ? 1 : chosen)] as number);
        results[i] = r;
      }
      return results;
    },
    raw: { width: k, read: (out, rows) => numbers(out, name, rows, k) },
  };
}

function labelDecoder(spec: PredictionEndpointSpec, name: string): Decoder {
  const classes = spec.classes ?? [];
  return {
    fetches: [name],
    decode: (out, rows) => {
      const t = out[name] as TensorValue;
      return Array.from({ length: rows }, (_, i) => {
        const value = t.data[i];
        if (typeof value === 'number' && !Number.isFinite(value)) return notFinite(value);
        const raw = String(value);
        // Labels are class values ("A", "1") or, for integer outputs, indices into classes.
        const label = classes.includes(raw) ? raw : classes[Number(raw)];
        if (label === undefined) throw new ModelError(`model label ${raw} is not one of the declared classes`);
        return { prediction: label, ignored: false };
      });
    },
    raw: null,
  };
}

/** Output values as numbers, checking the model returned rows x width of them. */
function numbers(out: Readonly<Record<string, TensorValue>>, name: string, rows: number, width: number): ArrayLike<number> {
  const t = out[name] as TensorValue;
  if (t.data.length !== rows * width) {
    throw new ModelError(`model output "${name}" has ${t.data.length} values for ${rows} rows, expected ${rows * width} (dims [${t.dims.join(',')}])`);
  }
  if (t.data instanceof BigInt64Array) return Array.from(t.data, Number);
  if (Array.isArray(t.data)) throw new ModelError(`model output "${name}" holds strings, not numbers`);
  return t.data;
}

/**
 * A record the model answered NaN or an infinity for: ignored with its reason, never a null
 * prediction in a 200 (JSON has no NaN). Its features are to blame far more often than the model.
 */
export const notFinite = (value: number): PredictionResult => ({ ignored: true, ignoreReason: `the model's output for this record is not a finite number (${value})` });

/** The first of values[from, from + n) that is NaN or infinite, or null. */
export function firstNonFinite(values: ArrayLike<number>, from: number, n: number): number | null {
  for (let j = from; j < from + n; j++) if (!Number.isFinite(values[j])) return values[j]!;
  return null;
}

/** Share (1..100) of the training-set probabilities at or below p, from ascending cut points. */
export function percentile(cuts: readonly number[], p: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cuts[mid] as number) <= p) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(100, Math.max(1, Math.round((100 * lo) / cuts.length)));
}
