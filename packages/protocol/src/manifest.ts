import { z } from 'zod';
import { Id } from './common.js';
import { LookupEndpointSpec, LookupSpec, SqlQueryEndpointSpec } from './data-endpoints.js';
import { CausalEndpointSpec, ForecastEndpointSpec } from './timeseries-endpoints.js';
import { CustomPredictionEndpointSpec, FunctionEndpointSpec } from './code-endpoints.js';
import { refusingUnsupported } from './unsupported-endpoints.js';
import { ColumnsInputs, Feature, MatrixInputs } from './model-inputs.js';

export * from './model-inputs.js';

/** Generation bundle format, see docs/generation-format.md. */
export const FORMAT_VERSION = 1;

export const ModelOutputs = z.object({
  /** Output holding the predicted label or cluster index (classification, clustering). */
  label: z.string().min(1).optional(),
  /** Output holding class probabilities [N, classes]; a ZipMap output is rewritten by the node when loading. */
  probabilities: z.string().min(1).optional(),
  /** Output holding the regression value [N] or [N, 1]. */
  prediction: z.string().min(1).optional(),
});

export const ModelSpec = z.object({
  /** Path of the ONNX file inside the generation, e.g. "models/penguins.onnx". */
  file: z.string().regex(/^models\/[A-Za-z0-9_.-]+\.onnx$/, 'must be models/<name>.onnx'),
  inputs: z.discriminatedUnion('mode', [ColumnsInputs, MatrixInputs]),
  outputs: ModelOutputs,
});

export const Example = z.object({
  features: z.record(z.string(), z.unknown()),
  expected: z.object({
    prediction: z.union([z.string(), z.number(), z.null()]).optional(),
    probas: z.record(z.string(), z.number()).optional(),
    cluster: z.string().optional(),
    ignored: z.boolean().optional(),
  }),
  /** Absolute tolerance for numbers. @default 1e-4 */
  tolerance: z.number().positive().default(1e-4),
});

export const ExplanationMethod = z.enum(['ICE', 'SHAPLEY']);
export type ExplanationMethod = z.infer<typeof ExplanationMethod>;

/**
 * An endpoint's explanation defaults (what a request's null fields mean) and where its
 * background data lives. Without it, explanations are unavailable on the endpoint (422).
 */
export const ExplanationSettings = z.object({
  /** Generation file holding the background rows and feature statistics, e.g. "data/churn.json". */
  background: z.string().regex(/^data\/[A-Za-z0-9_.-]+\.json$/, 'must be data/<name>.json'),
  /** Explain requests that leave explanations.enabled null or absent. @default false */
  enabled: z.boolean().default(false),
  /** @default "ICE" */
  method: ExplanationMethod.default('ICE'),
  /** How many features to return, strongest first. @default 3 */
  nExplanations: z.number().int().min(1).default(3),
  /** Shapley permutations per record. @default 100 */
  nMonteCarloSteps: z.number().int().min(25).max(1000).default(100),
});
export type ExplanationSettings = z.infer<typeof ExplanationSettings>;

const BackgroundValue = z.union([z.number(), z.string(), z.null()]);

/**
 * The file an endpoint's `explanations.background` names: rows drawn from the training data
 * (Shapley draws its background from them) and, per model feature, the values ICE substitutes.
 */
export const ExplanationBackground = z
  .object({
    /** Training records with the endpoint's feature names; null is a missing value. */
    rows: z.array(z.record(z.string(), BackgroundValue)).min(1),
    /** Per feature: deciles (NUMERIC) or the most frequent categories (CATEGORY), with their weights. */
    features: z.record(
      z.string(),
      z.object({
        values: z.array(BackgroundValue).min(1),
        /** Relative weights of the values (normalized by the node). @default - equal weights */
        weights: z.array(z.number().positive()).optional(),
      }),
    ),
  })
  .superRefine((b, ctx) => {
    for (const [name, f] of Object.entries(b.features)) {
      if (f.weights && f.weights.length !== f.values.length) {
        ctx.addIssue({ code: 'custom', path: ['features', name, 'weights'], message: `${f.weights.length} weights for ${f.values.length} values` });
      }
    }
  });
export type ExplanationBackground = z.infer<typeof ExplanationBackground>;

export const PredictionType = z.enum(['BINARY_CLASSIFICATION', 'MULTICLASS', 'REGRESSION', 'CLUSTERING']);
export type PredictionType = z.infer<typeof PredictionType>;

export const PredictionEndpointSpec = z.object({
  id: Id,
  type: z.enum(['STD_PREDICTION', 'STD_CLUSTERING']),
  predictionType: PredictionType,
  features: z.array(Feature).min(1),
  model: ModelSpec,
  /** Class labels in the order of the probability columns (classification). */
  classes: z.array(z.string()).min(2).optional(),
  /** Binary decision threshold on the probability of classes[1]. @default 0.5 */
  threshold: z.number().min(0).max(1).default(0.5),
  /** Ascending cut points of the positive (binary) or predicted (multiclass) class probability over the training set. */
  probaPercentiles: z
    .array(z.number())
    .min(2)
    .refine((cuts) => cuts.every((c, i) => i === 0 || cuts[i - 1]! <= c), 'must be in ascending order (percentiles are found by binary search)')
    .optional(),
  /** Cluster names by index (clustering). @default - "cluster_<index>" */
  clusters: z.array(z.string()).optional(),
  /** Records scored at import; the generation is rejected unless they match. */
  examples: z.array(Example).default([]),
  /** Explanation defaults and background data; absent: explanations are unavailable. */
  explanations: ExplanationSettings.optional(),
  /** Features looked up in tables before scoring (their columns join the record's features). */
  enrich: z.array(LookupSpec).default([]),
  description: z.string().optional(),
});
export type PredictionEndpointSpec = z.infer<typeof PredictionEndpointSpec>;

export const EndpointSpec = z.discriminatedUnion('type', [PredictionEndpointSpec, SqlQueryEndpointSpec, LookupEndpointSpec, ForecastEndpointSpec, CausalEndpointSpec, FunctionEndpointSpec, CustomPredictionEndpointSpec]);
export type EndpointSpec = z.infer<typeof EndpointSpec>;

export const isPredictionEndpoint = (e: EndpointSpec): e is PredictionEndpointSpec => e.type === 'STD_PREDICTION' || e.type === 'STD_CLUSTERING';

export const Manifest = z
  .object({
    formatVersion: z.literal(FORMAT_VERSION),
    generation: Id,
    createdAt: z.iso.datetime({ offset: true }),
    description: z.string().optional(),
    endpoints: z.array(refusingUnsupported(EndpointSpec)),
    /**
     * SHA-256 (hex) of every other file of the generation, by path. Written by the node at import
     * (an archive that declares it must match); checked when a file is loaded. Absent in
     * generations committed before it existed: their files are not checked.
     */
    files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex')).optional(),
    /**
     * Written by the node at import (an archive's own is dropped): per model endpoint, how long
     * loading it and scoring its examples took and how much model-runtime memory it needed
     * (docs/isolation-models.md).
     */
    importChecks: z
      .record(z.string(), z.object({ ms: z.number(), memoryMiB: z.number().nullable(), examples: z.number(), generated: z.boolean() }))
      .optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    for (const [i, e] of m.endpoints.entries()) {
      if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'id'], message: `duplicate endpoint id "${e.id}"` });
      seen.add(e.id);
      if (!isPredictionEndpoint(e)) continue;
      const names = new Set(e.features.map((f) => f.name));
      for (const [j, c] of e.model.inputs.columns.entries()) {
        if (!names.has(c.feature)) {
          ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'model', 'inputs', 'columns', j, 'feature'], message: `"${c.feature}" is not a declared feature` });
        }
      }
      const classification = e.predictionType === 'BINARY_CLASSIFICATION' || e.predictionType === 'MULTICLASS';
      if (classification && !e.classes) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'classes'], message: 'classification endpoints need "classes"' });
      if (e.predictionType === 'BINARY_CLASSIFICATION' && e.classes && e.classes.length !== 2) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'classes'], message: 'binary classification needs exactly 2 classes' });
      }
      if (classification && !e.model.outputs.probabilities && !e.model.outputs.label) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'model', 'outputs'], message: 'classification needs a "probabilities" or "label" output' });
      }
      if (e.predictionType === 'REGRESSION' && !e.model.outputs.prediction) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'model', 'outputs', 'prediction'], message: 'regression needs a "prediction" output' });
      }
      if (e.predictionType === 'CLUSTERING' && !e.model.outputs.label) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'model', 'outputs', 'label'], message: 'clustering needs a "label" output' });
      }
      if (e.explanations && (e.predictionType === 'CLUSTERING' || (classification && !e.model.outputs.probabilities))) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'explanations'], message: 'explanations need a regression output or class probabilities' });
      }
      if ((e.type === 'STD_CLUSTERING') !== (e.predictionType === 'CLUSTERING')) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'predictionType'], message: 'STD_CLUSTERING goes with predictionType CLUSTERING, and only with it' });
      }
    }
  });
export type Manifest = z.infer<typeof Manifest>;
