import { ForecastRequest, type ForecastEndpointSpec, type ForecastResult } from '@apinode/protocol';
import { archiveFiles, checkByLoading } from './import-check.js';
import type { Action, EndpointKind, GenerationFiles, KindServices } from './kind.js';
import { loadModel, type ModelEndpoint } from './model-endpoint.js';
import { ForecastModel, checkForecastExamples, type SeriesForecast } from './forecast/model.js';

export { ForecastEndpointSpec } from '@apinode/protocol';

type Endpoint = ModelEndpoint<ForecastModel>;

const load = (spec: ForecastEndpointSpec, files: GenerationFiles, services: KindServices): Promise<Endpoint> =>
  loadModel(spec, files, services, (onnx, runtime) => ForecastModel.load(spec, onnx, runtime));

/**
 * The answer's order (docs/api.md), as the DSS page shows it: horizon step by step, and within
 * a step the series in the order they first appear in the request. A series that cannot be
 * forecast answers one ignored result, in its place among the first step's.
 */
export function inDssOrder(series: readonly SeriesForecast[]): ForecastResult[] {
  const out: ForecastResult[] = [];
  const steps = Math.max(0, ...series.map((s) => s.results.length));
  for (let j = 0; j < steps; j++) {
    for (const s of series) {
      const r = s.results[j];
      if (r) out.push(r);
    }
  }
  return out;
}

const forecastAction: Action<Endpoint, ForecastRequest> = {
  name: 'forecast',
  method: 'POST',
  input: { body: ForecastRequest },
  dispatch: (body) => body.dispatch,
  run: async (endpoint, body, call) => {
    const out = await endpoint.model.forecast(body.items);
    const timing = { preProcessing: call.preProcessing, wait: call.wait, enrich: 0, ...out.timing };
    // One query-log line per series: its identifier, and its results as answered.
    const log = () => out.results.map((s) => ({ features: s.identifier, result: s.results }));
    return { body: { results: inDssOrder(out.results), timing }, records: body.items.length, log, timing };
  },
};

/** STD_FORECAST: every series of a request forecast in one model run (docs/generation-format.md). */
export const forecast: EndpointKind<'STD_FORECAST', Endpoint> = {
  actions: [forecastAction],
  load,
  preload: true,
  check: (spec, ctx) => checkByLoading(() => load(spec, archiveFiles(ctx), ctx.services), spec, (endpoint) => checkForecastExamples(spec, endpoint.model)),
};
