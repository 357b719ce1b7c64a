import { Hono, type Context } from 'hono';
import { ForecastRequest, PredictMultiRequest, PredictRequest, type EffectResult, type PredictionTiming } from '@apinode/protocol';
import { leaseCausalModel } from '../endpoints/causal-model.js';
import { leaseForecastModel } from '../endpoints/forecast-model.js';
import { ApiError } from '../errors.js';
import type { ScoreTiming } from '../inference/prediction-model.js';
import type { Lease } from '../inference/resource-cache.js';
import { admit, apiContext, bind, ofKind, type Bound } from './call.js';
import type { AppEnv, Deps } from './env.js';
import { readJson, since } from './http.js';

/** forecast (STD_FORECAST), predict-effect and predict-effect-multi (STD_CAUSAL_PREDICTION). */
export function timeseriesRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/:serviceId/:endpointId/forecast', async (c) => {
    const admitted = await admit(deps, c);
    const body = await readJson(c, ForecastRequest, deps.config.maxBodyBytes);
    const b = ofKind(await bind(deps, admitted, body.dispatch), 'STD_FORECAST');
    const out = await run(deps, c, b, body.items.length, leaseForecastModel(deps.generations, b.generation, b.endpoint), (m) => m.forecast(body.items));
    log(deps, c, b, out.results.map((r) => [r.timeseriesIdentifier, r]), out.timing);
    return c.json({ results: out.results, timing: out.timing, apiContext: apiContext(b) });
  });

  app.post('/:serviceId/:endpointId/predict-effect', async (c) => {
    const admitted = await admit(deps, c);
    const body = await readJson(c, PredictRequest, deps.config.maxBodyBytes);
    const out = await effects(deps, c, await bind(deps, admitted, body.dispatch), [body.features]);
    const result = out.results[0] as EffectResult;
    if (result.ignored) throw ApiError.badRequest('INVALID_RECORD', `The record cannot be scored: ${result.ignoreReason}`);
    return c.json({ result, timing: out.timing, apiContext: apiContext(out.bound) });
  });

  app.post('/:serviceId/:endpointId/predict-effect-multi', async (c) => {
    const admitted = await admit(deps, c);
    const body = await readJson(c, PredictMultiRequest, deps.config.maxBodyBytes);
    const out = await effects(deps, c, await bind(deps, admitted, body.dispatch), body.items.map((i) => i.features));
    return c.json({ results: out.results, timing: out.timing, apiContext: apiContext(out.bound) });
  });

  return app;
}

async function effects(deps: Deps, c: Context<AppEnv>, anyBound: Bound, records: Record<string, unknown>[]) {
  const b = ofKind(anyBound, 'STD_CAUSAL_PREDICTION');
  const out = await run(deps, c, b, records.length, leaseCausalModel(deps.generations, b.generation, b.endpoint), (m) => m.score(records));
  log(deps, c, b, records.map((features, i) => [features, out.results[i]]), out.timing);
  return { ...out, bound: b };
}

/** What every scoring call shares: generation header and metrics, the model lease, DSS timing. */
async function run<M, R>(deps: Deps, c: Context<AppEnv>, b: Bound, records: number, leasing: Promise<Lease<M>>, score: (m: M) => Promise<{ results: R[]; timing: ScoreTiming }>) {
  c.header('X-Apinode-Generation', b.generation.id);
  c.set('generation', b.generation.id);
  c.set('records', records);
  const preProcessing = since(c.get('startedAt'));
  const waitFrom = performance.now();
  const lease = await leasing;
  const wait = since(waitFrom);
  try {
    const scored = await score(lease.value);
    const timing: PredictionTiming = { preProcessing, wait, enrich: 0, ...scored.timing };
    return { results: scored.results, timing };
  } finally {
    lease.release();
  }
}

function log(deps: Deps, c: Context<AppEnv>, b: Bound, entries: [unknown, unknown][], timing: PredictionTiming): void {
  if (!deps.queryLog) return;
  const time = new Date().toISOString();
  const requestId = c.get('requestId');
  const where = { serviceId: b.service.serviceId, endpointId: b.endpoint.id, generation: b.generation.id, caller: b.caller };
  deps.queryLog.write(entries.map(([features, result]) => ({ time, requestId, ...where, features, context: null, result, timing })));
}
