import { ExplanationBackground, isPredictionEndpoint } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { Generations } from '../services/generations.js';
import { parseStoredJson } from '../storage/stored-json.js';
import type { DriftReference } from './report.js';

/**
 * The reference side of an endpoint's drift report: its input features and the explanation
 * background its generation carries (the statistics and rows the build drew from the training
 * data). 404 for a generation that is not committed or an endpoint it lacks; 400 for an endpoint
 * that has no such data (not a prediction endpoint, or one built without explanations).
 */
export async function loadDriftReference(generations: Generations, serviceId: string, generation: string, endpointId: string): Promise<DriftReference> {
  const g = await generations.get(serviceId, generation);
  if (!g) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${generation}" of service "${serviceId}" is not committed`);
  const spec = g.endpoints.get(endpointId);
  if (!spec) throw ApiError.notFound('ENDPOINT_NOT_FOUND', `Generation "${generation}" of service "${serviceId}" has no endpoint "${endpointId}"`);
  if (!isPredictionEndpoint(spec)) {
    throw ApiError.badRequest('WRONG_ENDPOINT_TYPE', `Endpoint "${endpointId}" is a ${spec.type} endpoint: drift reports compare the inputs of prediction endpoints`, 'drift reports need a STD_PREDICTION or STD_CLUSTERING endpoint whose generation carries an explanation background (docs/drift.md)');
  }
  if (!spec.explanations) {
    throw ApiError.badRequest(
      'WRONG_ENDPOINT_TYPE',
      `Endpoint "${endpointId}" of generation "${generation}" carries no reference distribution`,
      'the reference of a drift report is the explanation background (explanations.background in the manifest: training rows and feature statistics); build the generation with one (docs/generation-format.md, docs/drift.md)',
    );
  }
  const background = parseStoredJson(await g.read(spec.explanations.background), ExplanationBackground, `The explanation background of "${endpointId}"`, 'GENERATION_BROKEN');
  return {
    generation,
    features: spec.features.filter((f) => f.role === 'INPUT').map((f) => ({ name: f.name, kind: f.type })),
    background,
    predictionKind: spec.predictionType === 'REGRESSION' ? 'NUMERIC' : 'CATEGORY',
    classes: spec.predictionType === 'CLUSTERING' ? spec.clusters : spec.classes,
  };
}
