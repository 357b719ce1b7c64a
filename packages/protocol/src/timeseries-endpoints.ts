import { z } from 'zod';
import { Id } from './common.js';
import { ColumnsInputs, Feature, MatrixInputs } from './model-inputs.js';

/*
 * Time-series forecasting (STD_FORECAST) and causal treatment-effect (STD_CAUSAL_PREDICTION)
 * endpoints, see docs/generation-format.md.
 */

const ModelFile = z.string().regex(/^models\/[A-Za-z0-9_.-]+\.onnx$/, 'must be models/<name>.onnx');

/** Calendar units of a series' frequency. MONTH, QUARTER and YEAR are calendar months, not fixed durations. */
export const TimeUnit = z.enum(['MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR']);
export type TimeUnit = z.infer<typeof TimeUnit>;

export const Frequency = z.object({
  unit: TimeUnit,
  /** Periods of `unit` per step, e.g. 15 MINUTE. @default 1 */
  step: z.number().int().min(1).default(1),
});
export type Frequency = z.infer<typeof Frequency>;

/**
 * How the node turns a request's records into one regular series per identifier.
 * Records are sorted by time; every timestamp is assigned to its period (the step of the
 * frequency grid that contains it, anchored at 1970-01-01T00:00Z, weeks on Mondays).
 */
export const Resampling = z.object({
  /** Several values in one period (duplicate timestamps included): average them, keep the latest, or ignore the series. @default "IGNORE_SERIES" */
  duplicates: z.enum(['MEAN', 'LAST', 'IGNORE_SERIES']).default('IGNORE_SERIES'),
  /** A period of the window without a value (a gap, or a record whose target is missing or not a number). @default "INTERPOLATE" */
  missing: z.enum(['INTERPOLATE', 'PREVIOUS', 'IGNORE_SERIES']).default('INTERPOLATE'),
  /** Most consecutive periods filled before the series is ignored instead. @default 3 */
  maxFilledPeriods: z.number().int().min(0).default(3),
});
export type Resampling = z.infer<typeof Resampling>;

export const ForecastModel = z.object({
  file: ModelFile,
  /** ONNX input: float [N, windowLength], the last windowLength values of each series, oldest first. */
  input: z.string().min(1),
  /**
   * What the model sees and answers. NONE: raw values. LAST_VALUE: inputs are x / last - 1 and
   * outputs are relative changes r, turned back into last * (1 + r), so one model serves series of any level.
   * @default "LAST_VALUE"
   */
  normalization: z.enum(['NONE', 'LAST_VALUE']).default('LAST_VALUE'),
  outputs: z.object({
    /** Point forecast [N, horizon]. */
    forecast: z.string().min(1),
    /** Quantile forecasts [N, horizon, quantiles.length], in the order of `quantiles`. @default - none */
    quantiles: z.string().min(1).optional(),
  }),
});

export const ForecastExample = z.object({
  /** Records as a client sends them. */
  items: z.array(z.record(z.string(), z.unknown())).min(1),
  /**
   * Per series, in the order the series first appear in items: `forecast` and `time` are that
   * series' answers over the horizon, in time order (a compact form of the answer's one result
   * per series and step). Times are compared as instants: "2010-04-01T00:00:00.000Z" matches
   * the answer's "2010-04-01T00:00:00.000000Z".
   */
  expected: z.array(
    z.object({
      ignored: z.boolean().default(false),
      forecast: z.array(z.number()).optional(),
      time: z.array(z.string()).optional(),
    }),
  ),
  /** Absolute tolerance on forecasts. @default 1e-3 */
  tolerance: z.number().positive().default(1e-3),
});

export const ForecastEndpointSpec = z
  .object({
    id: Id,
    type: z.literal('STD_FORECAST'),
    /** Column holding each record's time: an ISO 8601 string, epoch milliseconds, or "Jan 1 2000". */
    timeVariable: z.string().min(1),
    frequency: Frequency,
    /** Columns identifying a series; none: the whole request is one series. @default [] */
    timeseriesIdentifiers: z.array(z.string().min(1)).default([]),
    /** The forecast column. */
    target: z.string().min(1),
    /** Past periods the model reads; a series with fewer is ignored. */
    windowLength: z.number().int().min(1),
    /** Periods forecast after the last observed one. */
    horizon: z.number().int().min(1),
    /** Ascending levels in (0, 1) of the model's quantile output. @default [] */
    quantiles: z.array(z.number().gt(0).lt(1)).default([]),
    resampling: Resampling.default({ duplicates: 'IGNORE_SERIES', missing: 'INTERPOLATE', maxFilledPeriods: 3 }),
    model: ForecastModel,
    /** Requests scored at import; the generation is rejected unless they match. */
    examples: z.array(ForecastExample).default([]),
    description: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.quantiles.some((q, i) => i > 0 && q <= (e.quantiles[i - 1] as number))) ctx.addIssue({ code: 'custom', path: ['quantiles'], message: 'quantiles must be strictly ascending' });
    if (e.quantiles.length > 0 && !e.model.outputs.quantiles) ctx.addIssue({ code: 'custom', path: ['model', 'outputs', 'quantiles'], message: 'quantiles need a "quantiles" output' });
    if (e.quantiles.length === 0 && e.model.outputs.quantiles) ctx.addIssue({ code: 'custom', path: ['quantiles'], message: 'a "quantiles" output needs its quantile levels' });
    if (e.timeseriesIdentifiers.includes(e.target) || e.timeseriesIdentifiers.includes(e.timeVariable)) {
      ctx.addIssue({ code: 'custom', path: ['timeseriesIdentifiers'], message: 'the target and time columns cannot identify a series' });
    }
  });
export type ForecastEndpointSpec = z.infer<typeof ForecastEndpointSpec>;

export const CausalExample = z.object({
  features: z.record(z.string(), z.unknown()),
  expected: z.object({
    prediction: z.number().optional(),
    outcomeTreated: z.number().optional(),
    outcomeControl: z.number().optional(),
    ignored: z.boolean().optional(),
  }),
  /** Absolute tolerance. @default 1e-4 */
  tolerance: z.number().positive().default(1e-4),
});

/**
 * A model of the effect of a binary treatment on a numeric outcome, e.g. a T-learner (one
 * regressor per arm). Inputs are encoded exactly as a prediction endpoint's.
 */
export const CausalEndpointSpec = z.object({
  id: Id,
  type: z.literal('STD_CAUSAL_PREDICTION'),
  predictionType: z.literal('CAUSAL_REGRESSION').default('CAUSAL_REGRESSION'),
  features: z.array(Feature).min(1),
  /** The treatment the effect is of, for documentation: it is not an input. */
  treatment: z.object({ name: z.string().min(1), description: z.string().optional() }),
  model: z.object({
    file: ModelFile,
    inputs: z.discriminatedUnion('mode', [ColumnsInputs, MatrixInputs]),
    outputs: z.object({
      /** Treatment effect [N] or [N, 1]: outcome if treated minus outcome if not. */
      effect: z.string().min(1),
      /** Outcome under treatment. @default - not answered */
      treated: z.string().min(1).optional(),
      /** Outcome under control. @default - not answered */
      control: z.string().min(1).optional(),
    }),
  }),
  examples: z.array(CausalExample).default([]),
  description: z.string().optional(),
});
export type CausalEndpointSpec = z.infer<typeof CausalEndpointSpec>;

/** One record's answer to `predict-effect`: `prediction` is the effect (treated minus control). */
export const EffectResult = z.object({
  ignored: z.boolean(),
  ignoreReason: z.string().optional(),
  prediction: z.number().optional(),
  outcomeTreated: z.number().optional(),
  outcomeControl: z.number().optional(),
});
export type EffectResult = z.infer<typeof EffectResult>;
