import { Hono } from 'hono';
import { CorsSettings } from '@apinode/protocol';
import type { ServiceAdmin } from '../services/service-admin.js';
import type { Deps } from '../services/deps.js';
import { auditor, idParam, type AdminEnv } from './admin-env.js';
import { readJson } from './http.js';

/** PUT services/{id}/cors: the origins whose pages may call the service (src/api/cors.ts); [] allows none. */
export function corsRoutes(deps: Deps, services: ServiceAdmin): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const audit = auditor(deps);
  app.put('/services/:serviceId/cors', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const cors = await services.setCors(serviceId, await readJson(c, CorsSettings, deps.config.maxBodyBytes));
    audit(c, 'service.cors', { serviceId, allowedOrigins: cors.allowedOrigins });
    return c.json(cors);
  });
  return app;
}
