import { Hono, type ErrorHandler, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody, OipError } from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Deps } from '../../services/deps.js';
import type { AppEnv } from '../env.js';
import { errorHandler } from '../http.js';
import { infer } from './infer.js';
import { modelMetadata, modelReady, serverMetadata, serverReady } from './metadata.js';

/**
 * The Open Inference Protocol v2, one base URL per service: /oip/{serviceId}/v2/… (docs/oip.md).
 * The service's auth applies to everything but health/live; models are its prediction endpoints.
 */
export function oipRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(oipErrors(deps.log));

  app.get('/:serviceId/v2', (c) => serverMetadata(deps, c));
  // Says the node is up, like /isAlive: no store read, no credentials (a liveness probe has none).
  app.get('/:serviceId/v2/health/live', (c) => c.json({ live: true }));
  app.get('/:serviceId/v2/health/ready', (c) => serverReady(deps, c));
  for (const model of ['/:serviceId/v2/models/:endpointId', '/:serviceId/v2/models/:endpointId/versions/:generation']) {
    app.get(model, (c) => modelMetadata(deps, c));
    app.get(`${model}/ready`, (c) => modelReady(deps, c));
    app.post(`${model}/infer`, (c) => infer(deps, c));
  }
  // Unknown routes under /oip answer in OIP's error shape too.
  app.all('*', (c) => {
    throw ApiError.notFound('NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`);
  });
  return app;
}

/**
 * OIP's error shape, {"error": "…"}, with the status, headers and logging of the node's one
 * error handler (whose DSS-shaped answer it rewrites).
 */
function oipErrors(log: Logger): ErrorHandler<AppEnv> {
  const dss = errorHandler(log);
  return async (err, c) => {
    const res = await dss(err, c);
    const body = (await res.json()) as ErrorBody;
    // A bug's answer says nothing but the request id to quote (detailedMessage); keep it.
    const error = body.errorType === 'INTERNAL_ERROR' ? `${body.message} (${body.detailedMessage})` : body.message;
    return c.json({ error } satisfies OipError, res.status as ContentfulStatusCode);
  };
}

/** Counts calls of OIP models (/oip/{serviceId}/v2/models/{endpointId}/…) under their service, endpoint and generation, as recordMetrics does for the DSS routes. */
export function recordOipMetrics(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const [, , serviceId = '-', v2, models, endpointId] = c.req.path.split('/');
    if (v2 !== 'v2' || models !== 'models' || !endpointId) return;
    metrics.record(serviceId, endpointId, c.get('generation') ?? '-', performance.now() - c.get('startedAt'), c.get('records') ?? 0, c.get('errorType'));
  };
}
