import { Hono, type MiddlewareHandler } from 'hono';
import { RolloutStartRequest } from '@apinode/protocol';
import type { Deps } from '../services/deps.js';
import { auditor, idParam, type AdminEnv } from './admin-env.js';
import type { AppEnv } from './env.js';
import { readJson } from './http.js';

/**
 * Guarded rollouts (docs/rollouts.md) under /admin/api/services/{id}/rollout: start, status,
 * promote, abort, and a check now (what the scheduled pass does every minute).
 */
export function rolloutRoutes(deps: Deps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const rollouts = deps.rollouts.controller;
  const audit = auditor(deps);
  const who = (c: { get(k: 'admin'): { label: string | undefined; id: string } }) => c.get('admin').label ?? c.get('admin').id;

  app.post('/services/:serviceId/rollout', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const body = await readJson(c, RolloutStartRequest, deps.config.maxBodyBytes);
    const state = await rollouts.start(serviceId, body, who(c));
    audit(c, 'rollout.start', { serviceId, generation: body.generation, steps: body.steps });
    return c.json(state, 201);
  });
  app.get('/services/:serviceId/rollout', async (c) => c.json(await rollouts.status(idParam(c, 'serviceId'))));
  app.post('/services/:serviceId/rollout/promote', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const state = await rollouts.promote(serviceId, who(c));
    audit(c, 'rollout.promote', { serviceId, generation: state.generation });
    return c.json(state);
  });
  app.post('/services/:serviceId/rollout/abort', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const state = await rollouts.abort(serviceId, who(c));
    audit(c, 'rollout.abort', { serviceId, generation: state.generation });
    return c.json(state);
  });
  // The check the scheduled pass makes, on demand (tests, or a deployment without a schedule).
  app.post('/services/:serviceId/rollout/check', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    await rollouts.advance(serviceId, who(c));
    return c.json(await rollouts.status(serviceId)); // 404 NOT_FOUND when there is no rollout
  });
  return app;
}

/**
 * Feeds this instance's metric windows (src/rollout/metric-windows.ts) with every user-API
 * answer a generation gave: its status and latency, under its service and generation. The
 * windows are written when due, as background work (Lambda awaits it before the invocation
 * ends, Workers in waitUntil, Node on a timer too).
 */
export function recordMetricWindows(deps: Deps): MiddlewareHandler<AppEnv> {
  const windows = deps.rollouts.windows;
  return async (c, next) => {
    await next();
    const generation = c.get('generation');
    if (!windows || !generation) return;
    // /public/api/v1/{service}/… or /oip/{service}/…
    const parts = c.req.path.split('/');
    const serviceId = parts[1] === 'oip' ? parts[2] : parts[4];
    if (!serviceId) return;
    windows.record(serviceId, generation, c.res.status, performance.now() - c.get('startedAt'));
    if (windows.due()) deps.background(windows.flushIfDue());
  };
}
