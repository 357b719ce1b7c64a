import type { CausalEndpointSpec } from '@apinode/protocol';
import { archiveFiles, checkByLoading } from './import-check.js';
import type { EndpointKind, GenerationFiles, KindServices } from './kind.js';
import { loadModel, type ModelEndpoint } from './model-endpoint.js';
import { CausalModel, checkCausalExamples } from './causal/model.js';
import { recordActions } from './record-actions.js';

export { CausalEndpointSpec } from '@apinode/protocol';

type Endpoint = ModelEndpoint<CausalModel>;

const load = (spec: CausalEndpointSpec, files: GenerationFiles, services: KindServices): Promise<Endpoint> =>
  loadModel(spec, files, services, (onnx, runtime) => CausalModel.load(spec, onnx, runtime));

/** STD_CAUSAL_PREDICTION: the treatment effect, and the outcome under each arm, per record. */
export const causal: EndpointKind<'STD_CAUSAL_PREDICTION', Endpoint> = {
  actions: recordActions({ single: 'predict-effect', multi: 'predict-effect-multi' }, async (endpoint: Endpoint, items, call) => {
    const out = await endpoint.model.score(items.map((i) => i.features));
    return { results: out.results, timing: { preProcessing: call.preProcessing, wait: call.wait, enrich: 0, ...out.timing } };
  }),
  load,
  preload: true,
  check: (spec, ctx) => checkByLoading(() => load(spec, archiveFiles(ctx), ctx.services), spec, (endpoint) => checkCausalExamples(spec, endpoint.model)),
};
