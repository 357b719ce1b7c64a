import { Hono, type Context } from 'hono';
import { CreateKeyRequest, CreateServiceRequest, Id, SetAuthRequest, SetMappingRequest, type CreatedKey, type ImportResult } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { unpackArchive } from '../services/archive.js';
import { commitGeneration, validateGeneration } from '../services/generation-import.js';
import { ServiceAdmin, keyInfo, newKey } from '../services/service-admin.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import type { CodeSandbox } from '../code/sandbox.js';
import type { ObjectStore } from '../storage/object-store.js';
import { authenticateAdmin, readAdminKeys, writeAdminKeys } from './admin-auth.js';
import { hashKey } from './auth.js';
import type { AppEnv, Deps } from './env.js';
import { readBytes, readJson } from './http.js';

type AdminEnv = AppEnv & { Variables: AppEnv['Variables'] & { admin: string } };

/**
 * The admin API (DESIGN 6), DSS-compatible routes plus key and auth management. Every change
 * is written to the operational log as an audit line: who (the admin key's label), what, when.
 */
export function adminRoutes(deps: Deps, store: ObjectStore, runtime: ModelRuntime, sandbox?: CodeSandbox): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const services = new ServiceAdmin(store, deps.registry, deps.generations);
  const audit = (c: Context<AdminEnv>, action: string, fields: Record<string, unknown> = {}) =>
    deps.log.info('audit', { who: c.get('admin'), action, ...fields, requestId: c.get('requestId') });
  const id = (c: Context<AdminEnv>, name: string) => {
    const v = c.req.param(name) ?? '';
    if (!Id.safeParse(v).success) throw ApiError.badRequest('INVALID_REQUEST', `"${v}" is not a valid ${name}`);
    return v;
  };
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
  app.get('/services/:serviceId', async (c) => c.json(await services.status(id(c, 'serviceId'))));
  app.delete('/services/:serviceId', async (c) => {
    const serviceId = id(c, 'serviceId');
    await services.delete(serviceId);
    audit(c, 'service.delete', { serviceId });
    return c.json({ deleted: serviceId });
  });

  app.get('/services/:serviceId/generations', async (c) => c.json({ generations: await services.listGenerations(id(c, 'serviceId')) }));
  app.post('/services/:serviceId/generations', async (c) => {
    const serviceId = id(c, 'serviceId');
    await services.status(serviceId);
    const files = unpackArchive(await readBytes(c, deps.config.maxImportBytes), deps.config.maxImportBytes);
    const validated = await validateGeneration(files, runtime, sandbox);
    await commitGeneration(store, serviceId, validated);
    const result: ImportResult = {
      serviceId,
      generation: validated.manifest.generation,
      files: files.size,
      bytes: validated.bytes,
      endpoints: validated.manifest.endpoints.map((e) => e.id),
      examplesChecked: validated.examplesChecked,
    };
    audit(c, 'generation.import', { serviceId, generation: result.generation, bytes: result.bytes });
    return c.json(result, 201);
  });
  app.post('/services/:serviceId/generations/:generation/preload', async (c) => {
    const g = await deps.generations.preload(id(c, 'serviceId'), id(c, 'generation'));
    return c.json({ serviceId: g.serviceId, generation: g.id, endpoints: [...g.endpoints.keys()] });
  });

  const action = (name: string, run: (c: Context<AdminEnv>, serviceId: string) => Promise<unknown>) =>
    app.post(`/services/:serviceId/actions/${name}`, async (c) => {
      const serviceId = id(c, 'serviceId');
      const out = await run(c, serviceId);
      audit(c, `service.${name.split('/')[0]}`, { serviceId, ...(c.req.param('generation') ? { generation: c.req.param('generation') } : {}) });
      return c.json(out);
    });
  action('enable', (_c, s) => services.setEnabled(s, true));
  action('disable', (_c, s) => services.setEnabled(s, false));
  action('setMapping', async (c, s) => services.setMapping(s, await readJson(c, SetMappingRequest, max)));
  action('switchToNewest', (_c, s) => services.switchToNewest(s));
  action('switchTo/:generation', (c, s) => services.switchTo(s, id(c, 'generation')));
  action('setAuth', async (c, s) => {
    const body = await readJson(c, SetAuthRequest, max);
    return services.setAuth(s, body.method, body.oauth2);
  });

  app.get('/services/:serviceId/keys', async (c) => c.json({ keys: await services.listKeys(id(c, 'serviceId')) }));
  app.post('/services/:serviceId/keys', async (c) => {
    const serviceId = id(c, 'serviceId');
    const body = await readJson(c, CreateKeyRequest, max);
    const created = await services.addKey(serviceId, body.label, body.key);
    audit(c, 'service.key.add', { serviceId, label: created.label });
    return c.json(created, 201);
  });
  app.delete('/services/:serviceId/keys/:key', async (c) => {
    const serviceId = id(c, 'serviceId');
    await services.revokeKey(serviceId, c.req.param('key'));
    audit(c, 'service.key.revoke', { serviceId });
    return c.json({ revoked: true });
  });

  // Admin keys (DSS: /admin/api/keys).
  app.get('/keys', async (c) => c.json({ keys: (await readAdminKeys(store)).keys.map(keyInfo) }));
  app.post('/keys', async (c) => {
    const body = await readJson(c, CreateKeyRequest, max);
    const all = await readAdminKeys(store);
    const label = body.label ?? `admin-${all.keys.length + 1}`;
    if (all.keys.some((k) => k.label === label)) throw new ApiError(409, 'KEY_EXISTS', `An admin key labelled "${label}" exists`);
    const created: CreatedKey = { key: body.key ?? newKey(), label, createdAt: new Date().toISOString() };
    await writeAdminKeys(store, { keys: [...all.keys, { label, hash: await hashKey(created.key), createdAt: created.createdAt }] });
    audit(c, 'admin.key.add', { label });
    return c.json(created, 201);
  });
  app.delete('/keys/:key', async (c) => {
    const target = c.req.param('key');
    const all = await readAdminKeys(store);
    const hash = await hashKey(target);
    const keys = all.keys.filter((k) => k.label !== target && k.hash !== hash);
    if (keys.length === all.keys.length) throw ApiError.notFound('KEY_NOT_FOUND', `No admin key "${target}"`);
    await writeAdminKeys(store, { keys });
    audit(c, 'admin.key.revoke', {});
    return c.json({ revoked: true });
  });

  app.get('/metrics', (c) => {
    const prometheus = c.req.query('format') === 'prometheus' || (c.req.header('accept') ?? '').includes('text/plain');
    return prometheus ? c.text(deps.metrics.prometheus(), 200, { 'Content-Type': 'text/plain; version=0.0.4' }) : c.json(deps.metrics.snapshot());
  });

  return app;
}
