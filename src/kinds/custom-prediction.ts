import type { CustomPredictionEndpointSpec, PredictionResult } from '@apinode/protocol';
import { ApiError, isApiError } from '../errors.js';
import type { CodeModule, CodeRuntime } from '../code/code-runtime.js';
import { checkResult } from '../code/custom-result.js';
import { codeProblems } from '../code/validate.js';
import type { FeatureRecord } from '../inference/encoding.js';
import type { CallContext, Compiled, EndpointKind, GenerationFiles, KindServices } from './kind.js';
import { PredictionEndpoint } from './prediction.js';
import { recordActions, type Item } from './record-actions.js';

export { CustomPredictionEndpointSpec } from '@apinode/protocol';

const asRecord = (v: unknown): FeatureRecord => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as FeatureRecord) : {});

/**
 * CUSTOM_PREDICTION: `predict(features, ctx)` in JavaScript answers predict, predict-multi and
 * predict-simple like a standard endpoint, and may score with the generation's own models.
 */
export class CustomPredictionEndpoint implements Compiled {
  constructor(
    readonly spec: CustomPredictionEndpointSpec,
    private readonly module: CodeModule,
    private readonly generation: GenerationFiles,
    private readonly code: CodeRuntime,
  ) {}

  get bytes(): number {
    return this.module.bytes;
  }

  async scoreItems(items: readonly Item[], call: CallContext) {
    const out = await this.code.run(call, this.module, { exportName: this.spec.function, invocations: items.map((i) => [i.features]), ctxGroup: 'models' }, { models: this.models() });
    const post = performance.now();
    const results: PredictionResult[] = out.values.map((v, i) => checkResult(this.spec, v, i));
    const timing = { preProcessing: call.preProcessing, wait: call.wait + out.startUs, enrich: 0, preparation: 0, prediction: out.cpuUs, postProcessing: Math.round((performance.now() - post) * 1000) };
    return { results, timing };
  }

  /** ctx.predict / ctx.predictRecords: the generation's own prediction models, scored in-process. */
  private models() {
    const score = async (endpointId: unknown, records: FeatureRecord[]) => {
      const id = String(endpointId);
      const lease = await this.generation.acquire(id).catch((e: unknown) => {
        if (isApiError(e) && e.errorType === 'ENDPOINT_NOT_FOUND') return null;
        throw e;
      });
      try {
        const endpoint = lease?.value;
        if (!(endpoint instanceof PredictionEndpoint)) throw new Error(`"${id}" is not a prediction endpoint of generation "${this.generation.generation}"`);
        return (await endpoint.score(records)).results;
      } finally {
        lease?.release();
      }
    };
    return {
      predict: async (endpointId: unknown, features: unknown) => (await score(endpointId, [asRecord(features)]))[0],
      predictRecords: (endpointId: unknown, records: unknown) => score(endpointId, Array.isArray(records) ? records.map(asRecord) : [asRecord(records)]),
    };
  }

  dispose(): void {
    this.module.dispose();
  }
}

async function load(spec: CustomPredictionEndpointSpec, files: GenerationFiles, services: KindServices): Promise<CustomPredictionEndpoint> {
  return new CustomPredictionEndpoint(spec, await services.code.load(files, spec.code), files, services.code);
}

export const customPrediction: EndpointKind<'CUSTOM_PREDICTION', CustomPredictionEndpoint> = {
  actions: recordActions({ single: 'predict', multi: 'predict-multi', simple: 'predict-simple' }, (endpoint: CustomPredictionEndpoint, items, call, params) => {
    if (params?.enabled) throw new ApiError(422, 'EXPLANATIONS_UNAVAILABLE', 'This endpoint cannot explain its predictions', 'custom prediction endpoints have no explanations');
    return endpoint.scoreItems(items, call);
  }),
  load,
  preload: false,
  check: async (spec, ctx) => ({ problems: await codeProblems(spec, ctx.files, ctx.services.code.sandbox), examplesChecked: 0 }),
};
