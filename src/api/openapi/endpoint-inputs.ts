import type { EndpointSpec, SqlType } from '@apinode/protocol';
import { z, type ZodType } from 'zod';
import { jsonSchema, type Json } from './json-schema.js';

/** One named input an endpoint declares in its manifest: a feature, a SQL parameter, a lookup key, a function parameter. */
export interface Field {
  readonly name: string;
  readonly schema: ZodType;
  readonly required: boolean;
}

const FEATURE = { NUMERIC: z.number(), CATEGORY: z.string() } as const;

const SQL: Record<SqlType, ZodType> = {
  text: z.string(),
  int8: z.int(),
  int4: z.int(),
  float8: z.number(),
  numeric: z.number(),
  bool: z.boolean(),
  date: z.string().describe('a date Postgres reads, e.g. 2026-01-31'),
  timestamptz: z.string().describe('a date-time Postgres reads, e.g. 2026-01-31T12:00:00Z'),
  jsonb: z.unknown(),
};

/**
 * What a record (or the named arguments) of this endpoint holds, from its manifest; null when
 * the manifest does not say (custom predictions, functions without declared parameters).
 * Features with role REJECT are left out (they are accepted and ignored); a missing feature is
 * imputed as the model declares, so none is required.
 */
export function fieldsOf(spec: EndpointSpec): readonly Field[] | null {
  switch (spec.type) {
    case 'STD_PREDICTION':
    case 'STD_CLUSTERING':
    case 'STD_CAUSAL_PREDICTION':
      return spec.features.filter((f) => f.role === 'INPUT').map((f) => ({ name: f.name, schema: FEATURE[f.type], required: false }));
    case 'STD_FORECAST':
      return [
        { name: spec.timeVariable, schema: z.union([z.string(), z.number()]).describe('the time: ISO 8601, or epoch milliseconds'), required: true },
        { name: spec.target, schema: z.number().nullable().describe('the observed value (missing: filled as the resampling says)'), required: false },
        ...spec.timeseriesIdentifiers.map((name) => ({ name, schema: z.string().describe('identifies the series'), required: true })),
      ];
    case 'SQL_QUERY':
      return spec.parameters.map((p) => ({ name: p.name, schema: SQL[p.type], required: p.default === undefined }));
    case 'DATASETS_LOOKUP':
      return spec.keys.map((k) => ({ name: k.from ?? k.column, schema: SQL[k.type], required: spec.policies.missingKey === 'ERROR' }));
    case 'FUNCTION':
      return spec.parameters?.map((name) => ({ name, schema: z.unknown(), required: false })) ?? null;
    case 'CUSTOM_PREDICTION':
      return null;
    default:
      return spec satisfies never;
  }
}

/** The fields as one record: declared ones typed, others accepted. */
export const recordOf = (fields: readonly Field[]) => z.looseObject(Object.fromEntries(fields.map((f) => [f.name, f.required ? f.schema : f.schema.optional()])));

/** The fields as query parameters (GET actions), each with the first example's value, if any. */
export function queryParameters(fields: readonly Field[], example: Record<string, unknown> | undefined): Json[] {
  return fields.map((f) => ({
    name: f.name,
    in: 'query',
    required: f.required,
    schema: jsonSchema(f.schema, 'input'),
    ...(example?.[f.name] !== undefined && example[f.name] !== null ? { example: example[f.name] } : {}),
  }));
}

/**
 * A body schema of the protocol with this endpoint's record in place of the free-form one:
 * `features` and `data` (predict, lookup), `items` of them (the multi actions, forecast), or the
 * named arguments themselves (run, query).
 */
export function withFields(body: ZodType, record: ZodType): ZodType {
  if (body instanceof z.ZodRecord) return record;
  if (!(body instanceof z.ZodObject)) return body;
  const shape = body.shape as Record<string, ZodType>;
  for (const key of ['features', 'data']) if (key in shape) return body.extend({ [key]: record });
  const items = shape.items;
  if (items instanceof z.ZodArray) return body.extend({ items: z.array(withFields(items.element as ZodType, record)) });
  return body;
}

/** The manifest's examples, as requests: one record each (predictions, causal), or whole requests (forecast). */
export interface Examples {
  readonly records: readonly { readonly features: Record<string, unknown>; readonly note: string }[];
  readonly requests: readonly { readonly items: readonly Record<string, unknown>[]; readonly note: string }[];
}

export function examplesOf(spec: EndpointSpec): Examples {
  const expected = (e: object) => `expected ${JSON.stringify(e)}`;
  switch (spec.type) {
    case 'STD_PREDICTION':
    case 'STD_CLUSTERING':
    case 'STD_CAUSAL_PREDICTION':
      return { records: spec.examples.map((e) => ({ features: e.features, note: expected(e.expected) })), requests: [] };
    case 'STD_FORECAST':
      return { records: [], requests: spec.examples.map((e) => ({ items: e.items, note: `${e.items.length} records` })) };
    default:
      return { records: [], requests: [] };
  }
}

/** The examples a body of this shape can show: one per record, all records in one batch, or one per request. */
export function bodyExamples(body: ZodType, examples: Examples): Record<string, Json> {
  if (!(body instanceof z.ZodObject)) return {};
  const shape = body.shape as Record<string, ZodType>;
  const out: Record<string, Json> = {};
  if ('features' in shape) {
    examples.records.forEach((r, i) => (out[`example-${i + 1}`] = { summary: `Manifest example ${i + 1} (${r.note})`, value: { features: r.features } }));
  }
  const element = shape.items instanceof z.ZodArray ? (shape.items.element as ZodType) : undefined;
  if (element instanceof z.ZodObject && 'features' in element.shape) {
    if (examples.records.length) out.examples = { summary: `The manifest's ${examples.records.length} examples in one batch`, value: { items: examples.records.map((r) => ({ features: r.features })) } };
  } else if (element) {
    // Items are the records themselves (forecast).
    examples.requests.forEach((r, i) => (out[`example-${i + 1}`] = { summary: `Manifest example ${i + 1} (${r.note})`, value: { items: r.items } }));
  }
  return out;
}
