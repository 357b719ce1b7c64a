import { Hono } from 'hono';
import { CreateServiceRequest, SetAuthRequest, SetMappingRequest, type ImportResult, type ModelCacheCleared } from '@apinode/protocol';
import { ApiError, describe } from '../errors.js';
import { importLimits, type ArchiveInput } from '../services/archive.js';
import { archiveTooLarge, type ImportSource } from '../services/import-source.js';
import { ServiceAdmin } from '../services/service-admin.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import type { CodeSandbox } from '../code/sandbox.js';
import type { ObjectStore } from '../storage/object-store.js';
import { authenticateAdmin } from './admin-auth.js';
import { auditor, idParam, type AdminContext, type AdminEnv } from './admin-env.js';
import { corsRoutes } from './admin-cors-routes.js';
import { keyRoutes } from './admin-keys-routes.js';
import { driftRoutes } from './admin-drift-routes.js';
import { rolloutRoutes } from './admin-rollout-routes.js';
import type { Deps } from '../services/deps.js';
import { readBodyStream, readJson } from './http.js';

export interface AdminPorts {
  readonly store: ObjectStore;
  readonly runtime: ModelRuntime;
  /** Where importFromArchive reads archives (src/services/import-source.ts). */
  readonly imports: ImportSource;
  readonly sandbox?: CodeSandbox | undefined;
  /** Where the store query-log sink writes, when not the generations bucket (drift reports read it). @default - store */
  readonly queryLogStore?: ObjectStore | undefined;
}

/**
 * The admin API (DESIGN 6), DSS-compatible routes plus key and auth management. Every change
 * is written to the operational log as an audit line: who (the admin key's label), what, when.
 */
export function adminRoutes(deps: Deps, ports: AdminPorts): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const { store, imports } = ports;
  const services = new ServiceAdmin(
    store,
    deps.registry,
    deps.generations,
    { runtime: ports.runtime, sandbox: ports.sandbox, limits: importLimits(deps.config), sql: deps.sql },
    { allowHttpJwks: deps.config.oauth2AllowHttpJwks },
  );
  const audit = auditor(deps);
  const max = deps.config.maxBodyBytes;

  app.use(async (c, next) => {
    c.set('admin', await authenticateAdmin(store, deps.config.adminKey, c.req.header('authorization')));
    await next();
  });

  app.get('/services', async (c) => c.json(await services.list()));
  app.post('/services', async (c) => {
    const body = await readJson(c, CreateServiceRequest, max);
    const created = await services.create(body.serviceId, body.auth);
    audit(c, 'service.create', { serviceId: body.serviceId });
    return c.json(created, 201);
  });
  app.get('/services/:serviceId', async (c) => c.json(await services.status(idParam(c, 'serviceId'))));
  app.delete('/services/:serviceId', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    await services.delete(serviceId);
    audit(c, 'service.delete', { serviceId });
    return c.json({ deleted: serviceId });
  });
  app.delete('/services-clean-unused', async (c) => {
    const result = await services.cleanUnused();
    audit(c, 'services.cleanUnused', result);
    return c.json(result);
  });

  // Two ways in, one import: an uploaded archive, or one the node reads from an import path.
  const imported = (c: AdminContext, result: ImportResult, fields: Record<string, unknown> = {}) => {
    audit(c, 'generation.import', { serviceId: result.serviceId, generation: result.generation, bytes: result.bytes, ...fields });
    return c.json(result, 201);
  };
  app.get('/services/:serviceId/generations', async (c) => c.json({ generations: await services.listGenerations(idParam(c, 'serviceId')) }));
  // A refused archive's own library message (its cause) goes to the log, never into the answer.
  const importArchive = async (c: AdminContext, open: (maxBytes: number) => Promise<ArchiveInput>) => {
    try {
      return await services.importArchive(idParam(c, 'serviceId'), open);
    } catch (e) {
      if (e instanceof ApiError && e.errorType === 'INVALID_ARCHIVE' && e.cause !== undefined) {
        deps.log.warn('archive refused', { requestId: c.get('requestId'), message: e.message, cause: describe(e.cause).slice(0, 2000) });
      }
      throw e;
    }
  };
  // The body is streamed into the unpacker, which stops at the first limit it passes.
  app.post('/services/:serviceId/generations', async (c) => imported(c, await importArchive(c, async (limit) => readBodyStream(c, limit, archiveTooLarge))));
  app.post('/services/:serviceId/generations/actions/importFromArchive', async (c) => {
    const filePath = c.req.query('filePath');
    if (!filePath) throw ApiError.badRequest('INVALID_REQUEST', 'importFromArchive needs ?filePath=', 'importFromArchive needs ?filePath=, the path of a generation archive the node can read (docs/admin.md)');
    return imported(c, await importArchive(c, (limit) => imports.read(filePath, limit)), { filePath });
  });
  app.post('/services/:serviceId/generations/:generation/preload', async (c) => {
    const g = await deps.generations.preload(idParam(c, 'serviceId'), idParam(c, 'generation'));
    return c.json({ serviceId: g.serviceId, generation: g.id, endpoints: [...g.endpoints.keys()] });
  });

  const action = (name: string, run: (c: AdminContext, serviceId: string) => Promise<unknown>) =>
    app.post(`/services/:serviceId/actions/${name}`, async (c) => {
      const serviceId = idParam(c, 'serviceId');
      const out = await run(c, serviceId);
      audit(c, `service.${name.split('/')[0]}`, { serviceId, ...(c.req.param('generation') ? { generation: c.req.param('generation') } : {}) });
      return c.json(out);
    });
  action('enable', (_c, s) => services.setEnabled(s, true));
  action('disable', (_c, s) => services.setEnabled(s, false));
  action('setMapping', async (c, s) => services.setMapping(s, await readJson(c, SetMappingRequest, max)));
  action('switchToNewest', (_c, s) => services.switchToNewest(s));
  action('switchTo/:generation', (c, s) => services.switchTo(s, idParam(c, 'generation')));
  action('setAuth', async (c, s) => {
    const body = await readJson(c, SetAuthRequest, max);
    return services.setAuth(s, body.method, body.oauth2);
  });

  app.route('/', keyRoutes(deps, store, services));
  app.route('/', corsRoutes(deps, services));
  app.route('/', driftRoutes(deps, ports.queryLogStore ?? store, services));
  app.route('/', rolloutRoutes(deps));

  app.get('/metrics', (c) => {
    const prometheus = c.req.query('format') === 'prometheus' || (c.req.header('accept') ?? '').includes('text/plain');
    return prometheus ? c.text(deps.metrics.prometheus(), 200, { 'Content-Type': 'text/plain; version=0.0.4' }) : c.json(deps.metrics.snapshot());
  });

  // Per instance: on Lambda and Workers, only the instance that answers this request.
  app.delete('/model-cache', (c) => {
    const cleared: ModelCacheCleared = deps.generations.clear();
    audit(c, 'modelCache.clear', cleared);
    return c.json(cleared);
  });
  unsupportedRoutes(app);

  return app;
}

/**
 * DSS admin routes about code environments and a model archive cache, which a serverless node
 * does not have: 400 OPERATION_NOT_SUPPORTED saying what to do instead (not 404, which would
 * read as a typo or an admin API that is off).
 */
function unsupportedRoutes(app: Hono<AdminEnv>): void {
  const codeEnvs = () => {
    throw ApiError.badRequest(
      'OPERATION_NOT_SUPPORTED',
      'apinode has no code environments to import, register or clean',
      'apinode has no code environments: code endpoints run in a sandbox inside the node, from the code/ folder of their generation; import the generation instead (docs/code-endpoints.md)',
    );
  };
  app.post('/cached-code-envs', codeEnvs);
  app.delete('/cached-code-envs', codeEnvs);
  app.post('/register-global-code-env', codeEnvs);
  app.post('/model-cache', () => {
    throw ApiError.badRequest(
      'OPERATION_NOT_SUPPORTED',
      'apinode has no model archive cache to import into',
      'apinode has no model archive cache: models are part of a generation; import it (POST services/{id}/generations, or …/generations/actions/importFromArchive), then POST services/{id}/generations/{gen}/preload to load it on this instance',
    );
  });
}
