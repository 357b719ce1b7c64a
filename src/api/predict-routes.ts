import { Hono, type Context } from 'hono';
import { PredictMultiRequest, PredictRequest, type ExplanationsParams, type PredictionResult, type PredictionTiming } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { FeatureRecord } from '../inference/encoding.js';
import { enrich } from '../endpoints/enrich.js';
import { resolveExplanations } from '../inference/explain/explainer.js';
import { admit, apiContext, bind, ofKind, type Bound } from './call.js';
import type { AppEnv, Deps } from './env.js';
import { readJson, since } from './http.js';
import type { CodeEndpoints } from '../code/code-endpoints.js';

interface Item {
  features: FeatureRecord;
  context?: Record<string, unknown> | null | undefined;
}

type Scored = { bound: Bound; results: PredictionResult[]; timing: PredictionTiming };

/** predict, predict-simple and predict-multi: one scoring path, three request shapes. */
export function predictRoutes(deps: Deps, code?: CodeEndpoints): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // CUSTOM_PREDICTION endpoints score in their code; everything around scoring is shared.
  const score = (d: Deps, c: Context<AppEnv>, b: Bound, items: readonly Item[], params?: ExplanationsParams): Promise<Scored> =>
    b.endpoint.type === 'CUSTOM_PREDICTION' && code ? scoreCustom(d, code, c, b, items, params) : scoreModel(d, c, b, items, params);

  app.post('/:serviceId/:endpointId/predict', async (c) => {
    const admitted = await admit(deps, c);
    const body = await readJson(c, PredictRequest, deps.config.maxBodyBytes);
    return single(c, await score(deps, c, await bind(deps, admitted, body.dispatch), [body], body.explanations));
  });

  app.get('/:serviceId/:endpointId/predict-simple', async (c) => {
    const admitted = await admit(deps, c);
    return single(c, await score(deps, c, await bind(deps, admitted, null), [{ features: c.req.query() }]));
  });

  app.post('/:serviceId/:endpointId/predict-multi', async (c) => {
    const admitted = await admit(deps, c);
    const body = await readJson(c, PredictMultiRequest, deps.config.maxBodyBytes);
    const out = await score(deps, c, await bind(deps, admitted, body.dispatch), body.items, body.explanations);
    return c.json({ results: out.results, timing: out.timing, apiContext: apiContext(out.bound) });
  });

  return app;
}

/** Explanations asked for (or enabled by the endpoint) but impossible are refused rather than silently left out of the answer. */
function explanations(params: ExplanationsParams | undefined, bound: ReturnType<typeof ofKind<'STD_PREDICTION' | 'STD_CLUSTERING'>>) {
  const resolved = resolveExplanations(params, bound.endpoint);
  if (typeof resolved === 'string') throw new ApiError(422, 'EXPLANATIONS_UNAVAILABLE', 'This endpoint cannot explain its predictions', resolved);
  return resolved;
}

/** predict and predict-simple answer one result, or 400 when their one record is unusable. */
function single(c: Context<AppEnv>, out: Scored): Response {
  const result = out.results[0] as PredictionResult;
  if (result.ignored) throw ApiError.badRequest('INVALID_RECORD', `The record cannot be scored: ${result.ignoreReason}`);
  return c.json({ result, timing: out.timing, apiContext: apiContext(out.bound) });
}

/** Scores items as ONE batch on the bound endpoint's model, times it and logs every record. */
async function scoreModel(deps: Deps, c: Context<AppEnv>, anyBound: Bound, items: readonly Item[], params?: ExplanationsParams) {
  const bound = ofKind(anyBound, 'STD_PREDICTION', 'STD_CLUSTERING');
  c.header('X-Apinode-Generation', bound.generation.id);
  const explain = explanations(params, bound);
  c.set('generation', bound.generation.id);
  c.set('records', items.length);
  const preProcessing = since(c.get('startedAt'));
  const enrichFrom = performance.now();
  const { records, ignored } = bound.endpoint.enrich.length
    ? await enrich(bound.endpoint.enrich, items.map((i) => i.features), deps.sql)
    : { records: items.map((i) => i.features), ignored: new Map<number, string>() };
  const enrichUs = bound.endpoint.enrich.length ? since(enrichFrom) : 0;
  const waitFrom = performance.now();
  const lease = await deps.generations.model(bound.generation, bound.endpoint);
  const wait = since(waitFrom);
  try {
    // Records an enrichment policy ignored are not scored.
    const keep = ignored.size ? records.flatMap((r, i) => (ignored.has(i) ? [] : [i])) : null;
    const scored = await lease.value.score(keep ? keep.map((i) => records[i]!) : records, explain);
    let results = scored.results;
    if (keep) {
      results = records.map((_, i) => ({ ignored: true, ignoreReason: ignored.get(i) ?? '' }));
      keep.forEach((i, k) => (results[i] = scored.results[k]!));
    }
    const timing: PredictionTiming = { preProcessing, wait, enrich: enrichUs, ...scored.timing };
    if (deps.queryLog) logRecords(deps, c, bound, items, results, timing);
    return { bound, results, timing };
  } finally {
    lease.release();
  }
}

/** The endpoint's code scores the records (docs/code-endpoints.md); no explanations. */
async function scoreCustom(deps: Deps, code: CodeEndpoints, c: Context<AppEnv>, anyBound: Bound, items: readonly Item[], params?: ExplanationsParams): Promise<Scored> {
  const bound = ofKind(anyBound, 'CUSTOM_PREDICTION');
  c.header('X-Apinode-Generation', bound.generation.id);
  if (params?.enabled) throw new ApiError(422, 'EXPLANATIONS_UNAVAILABLE', 'This endpoint cannot explain its predictions', 'custom prediction endpoints have no explanations');
  c.set('generation', bound.generation.id);
  c.set('records', items.length);
  const { results, timing } = await code.predict(c, bound, items.map((i) => i.features));
  if (deps.queryLog) logRecords(deps, c, bound, items, results, timing);
  return { bound, results, timing };
}

function logRecords(deps: Deps, c: Context<AppEnv>, b: Bound, items: readonly Item[], results: PredictionResult[], timing: PredictionTiming) {
  const time = new Date().toISOString();
  const requestId = c.get('requestId');
  deps.queryLog?.write(
    items.map((item, i) => ({
      time,
      requestId,
      serviceId: b.service.serviceId,
      endpointId: b.endpoint.id,
      generation: b.generation.id,
      caller: b.caller,
      features: item.features,
      context: item.context ?? null,
      result: results[i],
      timing,
    })),
  );
}
