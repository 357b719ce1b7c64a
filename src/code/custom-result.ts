import type { CustomPredictionEndpointSpec, PredictionResult } from '@apinode/protocol';
import { ApiError } from '../errors.js';

/**
 * What `predict(features, ctx)` returned, as a prediction result: `{prediction, probas?}`, or
 * `{ignored: true, ignoreReason}` for a record it cannot score. Anything else is the code's bug.
 */
export function checkResult(spec: CustomPredictionEndpointSpec, value: unknown, index: number): PredictionResult {
  const bad = (why: string) =>
    new ApiError(500, 'CODE_INVALID_RESULT', `${spec.function}() returned an invalid result for record ${index}: ${why}`, 'expected {prediction, probas?} or {ignored: true, ignoreReason}');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${JSON.stringify(value)?.slice(0, 100)} is not an object`);
  const v = value as Record<string, unknown>;
  if (v.ignored === true) return { ignored: true, ignoreReason: String(v.ignoreReason ?? 'ignored by the code') };
  const regression = spec.predictionType === 'REGRESSION';
  if (regression ? typeof v.prediction !== 'number' : typeof v.prediction !== 'string') throw bad(`prediction must be a ${regression ? 'number' : 'class label (string)'}`);
  if (spec.classes && !spec.classes.includes(v.prediction as string)) throw bad(`"${String(v.prediction)}" is not one of the classes ${spec.classes.join(', ')}`);
  const out: PredictionResult = { ignored: false, prediction: v.prediction as string | number };
  if (v.probas !== undefined) {
    if (typeof v.probas !== 'object' || v.probas === null || Object.values(v.probas).some((p) => typeof p !== 'number')) throw bad('probas must map class labels to numbers');
    out.probas = v.probas as Record<string, number>;
  }
  // Anything else the code returns is kept out of the answer: the wire shape is the standard one.
  return out;
}
