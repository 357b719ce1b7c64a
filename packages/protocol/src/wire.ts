import { z } from 'zod';
import { FeatureValue } from './common.js';
import { ExplanationMethod } from './manifest.js';

export const DSS_API_VERSION = '1';
export const DSS_VERSION = '13.0.0';

export const Dispatch = z
  .object({
    forcedGeneration: z.string().min(1).nullish(),
    dispatchKey: z.string().nullish(),
  })
  .nullish();

/** A request's explanation parameters; null or absent fields take the endpoint's defaults (manifest `explanations`). */
export const ExplanationsParams = z
  .object({
    enabled: z.boolean().nullish(),
    method: ExplanationMethod.nullish(),
    nExplanations: z.number().int().min(1).nullish(),
    nMonteCarloSteps: z.number().int().min(25).max(1000).nullish(),
  })
  .nullish();

/** Feature records are kept loose on purpose: a bad value ignores the record, it does not fail the batch. */
const Record_ = z.record(z.string(), z.unknown());

export const PredictRequest = z.object({
  features: Record_,
  context: Record_.nullish(),
  explanations: ExplanationsParams,
  dispatch: Dispatch,
});
export type PredictRequest = z.infer<typeof PredictRequest>;
export type ExplanationsParams = z.infer<typeof ExplanationsParams>;

export const PredictMultiRequest = z.object({
  items: z.array(z.object({ features: Record_, context: Record_.nullish() })),
  explanations: ExplanationsParams,
  dispatch: Dispatch,
});
export type PredictMultiRequest = z.infer<typeof PredictMultiRequest>;

export const PredictionResult = z.object({
  ignored: z.boolean(),
  ignoreReason: z.string().optional(),
  prediction: z.union([z.string(), z.number(), z.null()]).optional(),
  probas: z.record(z.string(), z.number()).optional(),
  probaPercentile: z.number().optional(),
  cluster: z.string().optional(),
  /** The nExplanations strongest contributions by absolute value, strongest first (see docs/api.md for the scale). */
  explanations: z.record(z.string(), z.number()).optional(),
});
export type PredictionResult = z.infer<typeof PredictionResult>;

/** Microseconds. */
export const PredictionTiming = z.object({
  preProcessing: z.number(),
  wait: z.number(),
  enrich: z.number(),
  preparation: z.number(),
  prediction: z.number(),
  postProcessing: z.number(),
});
export type PredictionTiming = z.infer<typeof PredictionTiming>;

export const ApiContext = z.object({
  serviceId: z.string(),
  endpointId: z.string(),
  serviceGeneration: z.string(),
});
export type ApiContext = z.infer<typeof ApiContext>;

export const PredictResponse = z.object({ result: PredictionResult, timing: PredictionTiming, apiContext: ApiContext });
export type PredictResponse = z.infer<typeof PredictResponse>;

export const PredictMultiResponse = z.object({
  results: z.array(PredictionResult),
  timing: PredictionTiming,
  apiContext: ApiContext,
});
export type PredictMultiResponse = z.infer<typeof PredictMultiResponse>;

/** `forecast` body: the records of one or more series, in any order. */
export const ForecastRequest = z.object({ items: z.array(Record_), dispatch: Dispatch });
export type ForecastRequest = z.infer<typeof ForecastRequest>;

const TimeseriesIdentifier = z.record(z.string(), z.string().nullable());

/**
 * One result of `forecast`, as the DSS API node answers: one per series and horizon step, or
 * one for a series that cannot be forecast. quantilesValues[k] is quantile quantiles[k].
 */
export const ForecastResult = z.discriminatedUnion('ignored', [
  z.object({
    timeseriesIdentifier: TimeseriesIdentifier,
    /** Start of the forecast period, UTC, with microseconds as DSS writes it: "2010-04-01T00:00:00.000000Z". */
    time: z.string(),
    forecast: z.number(),
    quantiles: z.array(z.number()),
    quantilesValues: z.array(z.number()),
    ignored: z.literal(false),
  }),
  z.object({ timeseriesIdentifier: TimeseriesIdentifier, ignored: z.literal(true), ignoreReason: z.string() }),
]);
export type ForecastResult = z.infer<typeof ForecastResult>;

/** Results: step by step, within a step the series in the order they first appear in the request (an ignored series: one result, among the first step's). */
export const ForecastResponse = z.object({ results: z.array(ForecastResult), timing: PredictionTiming, apiContext: ApiContext });
export type ForecastResponse = z.infer<typeof ForecastResponse>;

export const ErrorBody = z.object({ errorType: z.string(), message: z.string(), detailedMessage: z.string() });
export type ErrorBody = z.infer<typeof ErrorBody>;

export { FeatureValue };
