import {
  OIP_PLATFORMS,
  type CustomPredictionEndpointSpec,
  type EndpointSpec,
  type OipMetadataTensor,
  type PredictionEndpointSpec,
  type PredictionResult,
  type SqlType,
} from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import { kindOf } from '../../kinds/registry.js';

/** The endpoint kinds OIP serves: the ones that score records (their predict-multi action). */
export type OipSpec = PredictionEndpointSpec | CustomPredictionEndpointSpec;

const isOipSpec = (spec: EndpointSpec): spec is OipSpec => spec.type === 'STD_PREDICTION' || spec.type === 'STD_CLUSTERING' || spec.type === 'CUSTOM_PREDICTION';

/** The endpoint as an OIP model, or 400 naming the DSS actions that serve it. */
export function oipSpec(spec: EndpointSpec, serviceId: string): OipSpec {
  if (isOipSpec(spec)) return spec;
  const paths = [...new Set(kindOf(spec.type).actions.map((a) => `/public/api/v1/${serviceId}/${spec.id}/${a.name}`))];
  const list = paths.length > 1 ? `${paths.slice(0, -1).join(', ')} or ${paths.at(-1)}` : paths[0];
  throw ApiError.badRequest('WRONG_ENDPOINT_TYPE', `Endpoint "${spec.id}" is a ${spec.type} endpoint, which the Open Inference Protocol does not serve: call the DSS API, ${list}`);
}

export type OutputDatatype = 'BYTES' | 'FP64' | 'INT32';

/** One output tensor: a value per row, or `classes.length` values per row for probabilities. */
export interface OutputColumn {
  readonly name: string;
  readonly datatype: OutputDatatype;
  /** Column labels of an [N, classes] output. @default - none: shape [N] */
  readonly classes?: readonly string[];
  /** The tensor's elements, row-major; null where a result has no value. */
  read(results: readonly PredictionResult[]): (string | number | null)[];
}

const text = (pick: (r: PredictionResult) => unknown) => (rs: readonly PredictionResult[]) =>
  rs.map((r) => {
    const v = pick(r);
    return typeof v === 'string' ? v : null;
  });
const number = (pick: (r: PredictionResult) => unknown) => (rs: readonly PredictionResult[]) =>
  rs.map((r) => {
    const v = pick(r);
    return typeof v === 'number' ? v : null;
  });

/** What the endpoint answers, per predictionType: the label or value, then the probabilities and percentile where the endpoint has them. */
export function outputsOf(spec: OipSpec): OutputColumn[] {
  if (spec.predictionType === 'REGRESSION') return [{ name: 'prediction', datatype: 'FP64', read: number((r) => r.prediction) }];
  if (spec.predictionType === 'CLUSTERING') return [{ name: 'cluster', datatype: 'BYTES', read: text((r) => r.cluster) }];
  const out: OutputColumn[] = [{ name: 'prediction', datatype: 'BYTES', read: text((r) => r.prediction) }];
  const classes = spec.classes;
  const probabilities = spec.type === 'CUSTOM_PREDICTION' ? classes !== undefined : spec.model.outputs.probabilities !== undefined;
  if (classes && probabilities) {
    out.push({ name: 'probabilities', datatype: 'FP64', classes, read: (rs) => rs.flatMap((r) => classes.map((c) => r.probas?.[c] ?? null)) });
  }
  if (spec.type !== 'CUSTOM_PREDICTION' && spec.probaPercentiles && probabilities) {
    out.push({ name: 'proba_percentile', datatype: 'INT32', read: number((r) => r.probaPercentile) });
  }
  return out;
}

const SQL_DATATYPES: Record<SqlType, OipMetadataTensor['datatype']> = {
  text: 'BYTES',
  int8: 'INT64',
  int4: 'INT32',
  float8: 'FP64',
  numeric: 'FP64',
  bool: 'BOOL',
  date: 'BYTES',
  timestamptz: 'BYTES',
  jsonb: 'BYTES',
};

/**
 * The tensors a call should send: the model's INPUT features (numbers as FP64, categories as
 * BYTES), except those an enrichment looks up, and the enrichment keys. A custom prediction
 * declares no features: any input is a feature of that name.
 */
export function inputsOf(spec: OipSpec): OipMetadataTensor[] {
  if (spec.type === 'CUSTOM_PREDICTION') return [];
  const enriched = new Set(spec.enrich.flatMap((l) => l.columns.map((c) => c.as ?? c.column)));
  const tensors = new Map<string, OipMetadataTensor>();
  for (const key of spec.enrich.flatMap((l) => l.keys)) tensors.set(key.from ?? key.column, { name: key.from ?? key.column, datatype: SQL_DATATYPES[key.type], shape: [-1] });
  for (const f of spec.features) {
    if (f.role === 'INPUT' && !enriched.has(f.name)) tensors.set(f.name, { name: f.name, datatype: f.type === 'NUMERIC' ? 'FP64' : 'BYTES', shape: [-1] });
  }
  return [...tensors.values()];
}

/** Input names a call may send: every declared feature (REJECT ones are ignored by the model) and enrichment key; null: any. */
export function acceptedInputs(spec: OipSpec): ReadonlySet<string> | null {
  if (spec.type === 'CUSTOM_PREDICTION') return null;
  return new Set([...spec.features.map((f) => f.name), ...spec.enrich.flatMap((l) => l.keys.map((k) => k.from ?? k.column))]);
}

export const platformOf = (spec: OipSpec): string => (spec.type === 'CUSTOM_PREDICTION' ? OIP_PLATFORMS.custom : OIP_PLATFORMS.onnx);

/** Output metadata: shape [-1] or [-1, classes], with the class order of probabilities. */
export function outputMetadata(spec: OipSpec): OipMetadataTensor[] {
  return outputsOf(spec).map((o) => ({
    name: o.name,
    datatype: o.datatype,
    shape: o.classes ? [-1, o.classes.length] : [-1],
    ...(o.classes ? { parameters: { classes: [...o.classes] } } : {}),
  }));
}
