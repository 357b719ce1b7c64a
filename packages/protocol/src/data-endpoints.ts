import { z } from 'zod';
import { Id } from './common.js';

/** SQL types a parameter or lookup key may declare; values are bound as real parameters. */
export const SqlType = z.enum(['text', 'int8', 'int4', 'float8', 'numeric', 'bool', 'date', 'timestamptz', 'jsonb']);
export type SqlType = z.infer<typeof SqlType>;

export const SqlParameter = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a parameter name is an identifier'),
  type: SqlType,
  /** @default - required unless a default is given */
  default: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
});

/** Connection by name: APINODE_SQL_<NAME> (or the runtime's secret), never a connection string in a generation. */
const Connection = z.string().regex(/^[A-Za-z0-9_]+$/).default('default');

export const SqlQueryEndpointSpec = z.object({
  id: Id,
  type: z.literal('SQL_QUERY'),
  connection: Connection,
  parameters: z.array(SqlParameter).default([]),
  /** Statements run in order, in one transaction; each answers one entry of `results`. Use :name for parameters. */
  statements: z.array(z.string().min(1)).min(1),
  /** @default 1000 */
  maxRows: z.number().int().min(1).max(100_000).default(1000),
  /** @default 10000 */
  timeoutMs: z.number().int().min(1).max(300_000).default(10_000),
  description: z.string().optional(),
});
export type SqlQueryEndpointSpec = z.infer<typeof SqlQueryEndpointSpec>;

/** What to do with a record whose key is missing, or that matches no row or several rows. */
export const LookupPolicies = z.object({
  /** @default "IGNORE" */
  missingKey: z.enum(['IGNORE', 'ERROR']).default('IGNORE'),
  /** @default "IGNORE" */
  noMatch: z.enum(['IGNORE', 'KEEP', 'ERROR']).default('IGNORE'),
  /** @default "KEEP_FIRST" */
  multipleMatches: z.enum(['KEEP_FIRST', 'IGNORE', 'ERROR']).default('KEEP_FIRST'),
});
export type LookupPolicies = z.infer<typeof LookupPolicies>;

export const LookupSpec = z.object({
  connection: Connection,
  /** Table (optionally schema-qualified) to look records up in. */
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/),
  /** Key columns, matched against the request's values of the same (or `from`) name. */
  keys: z.array(z.object({ column: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), from: z.string().optional(), type: SqlType.default('text') })).min(1),
  /** Columns returned, with optional renames. */
  columns: z.array(z.object({ column: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), as: z.string().optional() })).min(1),
  policies: LookupPolicies.default({ missingKey: 'IGNORE', noMatch: 'IGNORE', multipleMatches: 'KEEP_FIRST' }),
  /** Deterministic choice among several matches. @default - the key columns */
  orderBy: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*( (ASC|DESC))?$/i).optional(),
});
export type LookupSpec = z.infer<typeof LookupSpec>;

export const LookupEndpointSpec = LookupSpec.extend({
  id: Id,
  type: z.literal('DATASETS_LOOKUP'),
  description: z.string().optional(),
});
export type LookupEndpointSpec = z.infer<typeof LookupEndpointSpec>;

// Wire shapes (DESIGN 2).

export const SqlResult = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.string().nullable())),
  updatedRows: z.number(),
  /** Set when the row cap cut the answer. */
  truncated: z.boolean().optional(),
});
export type SqlResult = z.infer<typeof SqlResult>;

export const SqlQueryResponse = z.object({ results: z.array(SqlResult) });
export type SqlQueryResponse = z.infer<typeof SqlQueryResponse>;

const Data = z.record(z.string(), z.unknown());
export const LookupRequest = z.object({ data: Data, context: Data.nullish() });
export const LookupMultiRequest = z.object({ items: z.array(z.object({ data: Data, context: Data.nullish() })) });

export const LookupResult = z.object({
  data: z.record(z.string(), z.unknown()).optional(),
  ignored: z.boolean(),
  ignoreReason: z.string().optional(),
});
export type LookupResult = z.infer<typeof LookupResult>;

export const LookupResponse = z.object({ results: z.array(LookupResult) });
export type LookupResponse = z.infer<typeof LookupResponse>;
