import type { PredictionEndpointSpec } from '@apinode/protocol';
import type { TensorInfo, TensorType, TensorValue } from './model-runtime.js';
import { UnusableRecord, isMissing, toCategory, toNumber } from './values.js';

export type FeatureRecord = Readonly<Record<string, unknown>>;

/** A batch ready for ONE model run: the usable records' tensors and why the others were left out. */
export interface EncodedBatch {
  readonly feeds: Record<string, TensorValue>;
  /** Indices (into the request's records) of the rows in the tensors, in order. */
  readonly rows: number[];
  readonly ignored: Map<number, string>;
}

export interface Encoder {
  encode(records: readonly FeatureRecord[]): EncodedBatch;
}

/** A column writer stores record r's value at row i, or throws UnusableRecord. */
type Writer = (rec: FeatureRecord, i: number) => void;
interface Plan {
  alloc(n: number): void;
  writer: Writer;
  tensor(rows: number): TensorValue;
}

/**
 * Compiles the manifest's feature-to-input mapping against the model's real inputs, once per
 * loaded model; encode() then writes straight into typed arrays, one pass over the records.
 */
export function compileEncoder(spec: PredictionEndpointSpec, inputs: readonly TensorInfo[]): Encoder {
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const input = (name: string): TensorInfo => {
    const info = byName.get(name);
    if (!info) throw new Error(`the model has no input "${name}" (inputs: ${[...byName.keys()].join(', ')})`);
    if (!info.isTensor || !info.type) throw new Error(`model input "${name}" is not a tensor of a supported type`);
    return info;
  };
  const plans: [string, Plan][] = [];
  const m = spec.model.inputs;
  if (m.mode === 'COLUMNS') {
    for (const c of m.columns) {
      const name = c.input ?? c.feature;
      plans.push([name, columnPlan(c.feature, input(name), c.impute)]);
    }
    const fed = new Set(plans.map(([n]) => n));
    const unfed = inputs.filter((i) => !fed.has(i.name)).map((i) => i.name);
    if (unfed.length) throw new Error(`model inputs without a column: ${unfed.join(', ')}`);
  } else {
    plans.push([m.input, matrixPlan(m, input(m.input))]);
  }
  return {
    encode(records) {
      for (const [, p] of plans) p.alloc(records.length);
      const rows: number[] = [];
      const ignored = new Map<number, string>();
      records.forEach((rec, r) => {
        try {
          for (const [, p] of plans) p.writer(rec, rows.length);
          rows.push(r);
        } catch (e) {
          if (!(e instanceof UnusableRecord)) throw e;
          ignored.set(r, e.message);
        }
      });
      const feeds: Record<string, TensorValue> = {};
      for (const [name, p] of plans) feeds[name] = p.tensor(rows.length);
      return { feeds, rows, ignored };
    },
  };
}

function columnPlan(feature: string, info: TensorInfo, impute: number | string | undefined): Plan {
  const type = info.type as TensorType;
  const rank1 = info.dims?.length === 1;
  const dims = (n: number) => (rank1 ? [n] : [n, 1]);
  switch (type) {
    case 'string': {
      let data: string[] = [];
      const fallback = impute === undefined ? '' : String(impute);
      return {
        alloc: (n) => (data = new Array<string>(n)),
        writer: (rec, i) => {
          const v = rec[feature];
          data[i] = isMissing(v) ? fallback : toCategory(feature, v);
        },
        tensor: (n) => ({ type, data: data.length === n ? data : data.slice(0, n), dims: dims(n) }),
      };
    }
    case 'int64':
    case 'int32': {
      let data: BigInt64Array | Int32Array = new Int32Array(0);
      return {
        alloc: (n) => (data = type === 'int64' ? new BigInt64Array(n) : new Int32Array(n)),
        writer: (rec, i) => {
          const v = rec[feature];
          if (isMissing(v) && impute === undefined) throw new UnusableRecord(`feature "${feature}" is missing and has no imputation`);
          const x = isMissing(v) ? Number(impute) : toNumber(feature, v);
          if (!Number.isInteger(x)) throw new UnusableRecord(`feature "${feature}": ${x} is not an integer`);
          // Typed arrays wrap what does not fit, silently: 2^32 would be fed as 0.
          if (x < INT_RANGE[type][0] || x >= INT_RANGE[type][1]) throw outOfRange(feature, x, type);
          if (data instanceof BigInt64Array) data[i] = BigInt(x);
          else data[i] = x;
        },
        tensor: (n) => ({ type, data: data.subarray(0, n), dims: dims(n) }),
      };
    }
    default: {
      let data: Float32Array | Float64Array | Uint8Array = new Float32Array(0);
      const fallback = impute === undefined ? NaN : Number(impute);
      return {
        alloc: (n) => (data = type === 'float64' ? new Float64Array(n) : type === 'bool' ? new Uint8Array(n) : new Float32Array(n)),
        writer: (rec, i) => {
          const v = rec[feature];
          const x = isMissing(v) ? fallback : toNumber(feature, v);
          data[i] = x;
          if (isInfinite(data[i]!)) throw outOfRange(feature, x, type);
        },
        tensor: (n) => ({ type, data: data.subarray(0, n), dims: dims(n) }),
      };
    }
  }
}

/**
 * A value the model's input cannot hold: finite in JSON, infinite once encoded (1e308 in a
 * float32, or scaled past float64). NaN stays allowed: it is how a missing value without
 * imputation reaches the model.
 */
const isInfinite = (x: number) => x === Infinity || x === -Infinity;
const outOfRange = (feature: string, x: number, type: string) => new UnusableRecord(`feature "${feature}": ${x} is out of the range of the model's ${type} input`);
/** [lowest, past the highest] integer of each type (2^63 - 1 is not a double). */
const INT_RANGE = { int32: [-(2 ** 31), 2 ** 31], int64: [-(2 ** 63), 2 ** 63] } as const;

type MatrixSpec = Extract<PredictionEndpointSpec['model']['inputs'], { mode: 'MATRIX' }>;

function matrixPlan(m: MatrixSpec, info: TensorInfo): Plan {
  if (info.type !== 'float32' && info.type !== 'float64') throw new Error(`matrix input "${m.input}" must be float32 or float64, not ${info.type}`);
  const widths = m.columns.map((c) => ('oneHot' in c ? c.oneHot.length : 1));
  const width = widths.reduce((a, b) => a + b, 0);
  const declared = info.dims?.[1];
  if (declared != null && declared !== width) throw new Error(`matrix input "${m.input}" has ${declared} columns, the manifest encodes ${width}`);
  let offset = 0;
  const writers = m.columns.map((c, j): ((rec: FeatureRecord, row: Float32Array | Float64Array, base: number) => void) => {
    const at = offset;
    offset += widths[j] as number;
    if ('oneHot' in c) {
      const index = new Map(c.oneHot.map((cat, k) => [cat, k]));
      return (rec, row, base) => {
        const v = rec[c.feature];
        const cat = isMissing(v) ? c.impute : toCategory(c.feature, v);
        row.fill(0, base + at, base + at + c.oneHot.length);
        if (cat === undefined) return;
        const k = index.get(cat);
        if (k !== undefined) row[base + at + k] = 1;
        else if (c.unknown === 'IGNORE') throw new UnusableRecord(`feature "${c.feature}": unknown category ${JSON.stringify(cat)}`);
      };
    }
    const fallback = c.impute ?? NaN;
    return (rec, row, base) => {
      const v = rec[c.feature];
      const x = isMissing(v) ? fallback : toNumber(c.feature, v);
      row[base + at] = (x - c.shift) * c.scale;
      if (isInfinite(row[base + at]!)) throw outOfRange(c.feature, x, `scaled ${info.type}`);
    };
  });
  let data: Float32Array | Float64Array = new Float32Array(0);
  return {
    alloc: (n) => (data = info.type === 'float64' ? new Float64Array(n * width) : new Float32Array(n * width)),
    writer: (rec, i) => {
      for (const w of writers) w(rec, data, i * width);
    },
    tensor: (n) => ({ type: info.type as TensorType, data: data.subarray(0, n * width), dims: [n, width] }),
  };
}
