import { Hono } from 'hono';
import { Id } from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import type { Deps } from '../../services/deps.js';
import { admit } from '../endpoint-routes.js';
import type { AppEnv } from '../env.js';
import { adminDocument } from './admin-document.js';
import { describedGeneration, serviceDocument } from './service-document.js';
import { nodeDocument } from './user-document.js';

/**
 * The node's OpenAPI 3.1 documents: GET /openapi.json (the user API, no credentials) and
 * GET /public/api/v1/{serviceId}/openapi.json (one service: admitted like any call to it).
 */
export function openApiRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/openapi.json', (c) => c.json(nodeDocument()));
  app.get('/public/api/v1/:serviceId/openapi.json', async (c) => {
    const { service } = await admit(deps, c);
    const asked = c.req.query('generation');
    if (asked !== undefined && !Id.safeParse(asked).success) throw ApiError.badRequest('INVALID_REQUEST', `"${asked}" is not a valid generation`);
    const id = asked ?? describedGeneration(service.mapping!);
    const generation = await deps.generations.get(service.serviceId, id);
    if (!generation) {
      if (asked !== undefined) throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${id}" of service "${service.serviceId}" is not committed`);
      throw ApiError.unavailable('GENERATION_MISSING', `The mapping of service "${service.serviceId}" names generation "${id}", which is not in the store`);
    }
    c.header('X-Apinode-Generation', generation.id);
    return c.json(serviceDocument(service, generation));
  });
  return app;
}

/** GET /admin/api/openapi.json, mounted with the admin API: readable without a key, as it holds no data. */
export function adminOpenApiRoutes(): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/admin/api/openapi.json', (c) => c.json(adminDocument()));
}
