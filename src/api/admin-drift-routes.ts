import { Hono } from 'hono';
import { DRIFT_MAX_WINDOW_MS, Id, parseSince, type DriftReport, type Mapping } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { busiestGeneration, collectProduction } from '../drift/production.js';
import { loadDriftReference } from '../drift/load.js';
import { driftReport, type DriftReference } from '../drift/report.js';
import { emptyReadStats, readQueryLog } from '../observability/query-log-reader.js';
import type { ServiceAdmin } from '../services/service-admin.js';
import type { Deps } from '../services/deps.js';
import type { ObjectStore } from '../storage/object-store.js';
import { idParam, type AdminContext, type AdminEnv } from './admin-env.js';

/**
 * GET services/{id}/endpoints/{e}/drift?since=24h&until=…&generation=g (docs/drift.md): the stored
 * query log of the window against the reference distribution of the generation (?generation=, else
 * the one that served the most records, else the one the mapping sends most traffic to).
 */
export function driftRoutes(deps: Deps, logStore: ObjectStore, services: ServiceAdmin, now: () => number = Date.now): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  app.get('/services/:serviceId/endpoints/:endpointId/drift', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const endpointId = idParam(c, 'endpointId');
    const generationFilter = generationParam(c.req.query('generation'));
    const { since, until } = window(c, new Date(now()));
    const status = await services.status(serviceId); // 404 SERVICE_NOT_FOUND first, before anything is read
    // A named generation is checked before the log is read: a typo answers 404 at once.
    const named = generationFilter === null ? null : await loadDriftReference(deps.generations, serviceId, generationFilter, endpointId);
    const read = emptyReadStats();
    const lines = readQueryLog(logStore, { prefix: deps.config.queryLogPrefix, serviceId, endpointId, since, until, ...(generationFilter ? { generation: generationFilter } : {}) }, read);
    const sample = await collectProduction(lines, deps.random);
    const generation = generationFilter ?? busiestGeneration(sample.byGeneration) ?? mostMapped(status.mapping);
    const reference: DriftReference | null = named ?? (generation === null ? null : await loadDriftReference(deps.generations, serviceId, generation, endpointId));
    const report: DriftReport = driftReport({ serviceId, endpointId, generationFilter, since, until }, sample, reference, read);
    return c.json(report);
  });
  return app;
}

function generationParam(v: string | undefined): string | null {
  if (v === undefined || v === '') return null;
  if (!Id.safeParse(v).success) throw ApiError.badRequest('INVALID_REQUEST', `generation="${v.slice(0, 140)}" is not a valid generation id`);
  return v;
}

/** The generation the mapping sends the most traffic to; null without a mapping. */
function mostMapped(mapping: Mapping | null): string | null {
  if (!mapping) return null;
  if (mapping.mode === 'SINGLE_GENERATION') return mapping.generation;
  return [...mapping.entries].sort((a, b) => b.proba - a.proba)[0]?.generation ?? null;
}

/** ?since= (a duration back from now, or an ISO date-time; default 24h) and ?until= (an ISO date-time; default now). */
function window(c: AdminContext, now: Date): { since: Date; until: Date } {
  const sinceText = c.req.query('since') ?? '24h';
  const since = parseSince(sinceText, now);
  if (!since) throw ApiError.badRequest('INVALID_REQUEST', `since="${sinceText.slice(0, 64)}" is neither a duration like 90m, 24h, 7d nor an ISO 8601 date-time`);
  const untilText = c.req.query('until');
  const until = untilText === undefined ? now : parseSince(untilText, now);
  if (!until || (untilText !== undefined && /^\d+[mhd]$/.test(untilText))) {
    throw ApiError.badRequest('INVALID_REQUEST', `until="${(untilText ?? '').slice(0, 64)}" is not an ISO 8601 date-time`);
  }
  if (!(since < until)) throw ApiError.badRequest('INVALID_REQUEST', `the window is empty: since (${since.toISOString()}) is not before until (${until.toISOString()})`);
  if (until.getTime() - since.getTime() > DRIFT_MAX_WINDOW_MS) {
    throw ApiError.badRequest('INVALID_REQUEST', `the window is longer than ${DRIFT_MAX_WINDOW_MS / 86_400_000} days`, 'a drift report reads every query-log object of its window; compare shorter windows (since=7d, or since=… until=…)');
  }
  return { since, until };
}
