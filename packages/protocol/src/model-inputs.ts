import { z } from 'zod';

/** Features and how they map to ONNX inputs: shared by every ONNX-backed endpoint type (prediction, causal). */

export const Feature = z.object({
  name: z.string().min(1),
  type: z.enum(['NUMERIC', 'CATEGORY']),
  /** Only INPUT features are fed to the model; REJECT ones are accepted and ignored. */
  role: z.enum(['INPUT', 'REJECT']).default('INPUT'),
});
export type Feature = z.infer<typeof Feature>;

/** One ONNX input per feature column; the tensor type comes from the model's own input metadata. */
export const ColumnInput = z.object({
  feature: z.string().min(1),
  /** ONNX input name. @default - the feature name */
  input: z.string().min(1).optional(),
  /** Value used when the feature is missing or null. @default - NaN for float inputs, "" for strings; none for integers (record ignored) */
  impute: z.union([z.number(), z.string()]).optional(),
});

export const ColumnsInputs = z.object({
  mode: z.literal('COLUMNS'),
  columns: z.array(ColumnInput).min(1),
});

/** A numeric feature becomes one matrix column: (value ?? impute - shift) * scale. */
export const NumericColumn = z.object({
  feature: z.string().min(1),
  /** @default - NaN (the model must handle missing values itself) */
  impute: z.number().optional(),
  /** @default 0 */
  shift: z.number().default(0),
  /** @default 1 */
  scale: z.number().default(1),
});

/** A categorical feature becomes one matrix column per category (one-hot). */
export const OneHotColumn = z.object({
  feature: z.string().min(1),
  oneHot: z.array(z.string()).min(1),
  /** Category used when the feature is missing or null. @default - all zeros */
  impute: z.string().optional(),
  /** What an unknown category does: all-zero columns, or the record is ignored. @default "ZEROS" */
  unknown: z.enum(['ZEROS', 'IGNORE']).default('ZEROS'),
});

export const MatrixInputs = z.object({
  mode: z.literal('MATRIX'),
  /** ONNX input name of the [N, width] float matrix */
  input: z.string().min(1),
  columns: z.array(z.union([OneHotColumn, NumericColumn])).min(1),
});
