import { Hono } from 'hono';
import { CreateAdminKeyRequest, CreateKeyRequest, type RevokedKey, type StoredAdminKey } from '@apinode/protocol';
import { ApiError, describe, isApiError } from '../errors.js';
import { createdKey, expiresAt, findKey, keyId, keyInfo, newKey, newKeyId } from '../services/keys.js';
import type { ServiceAdmin } from '../services/service-admin.js';
import type { ObjectStore } from '../storage/object-store.js';
import { readAdminKeys, updateAdminKeys } from './admin-auth.js';
import { auditor, idParam, type AdminContext, type AdminEnv } from './admin-env.js';
import { hashKey } from '../services/key-hash.js';
import type { Deps } from '../services/deps.js';
import { readJson } from './http.js';

/**
 * Admin keys (DSS: keys, keys/{key}, keys/{id}/key) and service keys. Every key has an id;
 * a key is shown once, in the answer that creates it, and never in a log line or an error.
 */
export function keyRoutes(deps: Deps, store: ObjectStore, services: ServiceAdmin): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const audit = auditor(deps);
  const max = deps.config.maxBodyBytes;

  app.get('/keys', async (c) => {
    const now = Date.now();
    return c.json({ keys: (await readAdminKeys(store)).keys.map((k) => keyInfo(k, now)) });
  });
  app.post('/keys', async (c) => {
    const body = await readJson(c, CreateAdminKeyRequest, max);
    const now = Date.now();
    const key = body.key ?? newKey();
    const stored: StoredAdminKey = {
      id: newKeyId(),
      hash: await hashKey(key),
      createdAt: new Date(now).toISOString(),
      ...(body.label ? { label: body.label } : {}),
      ...(body.description ? { description: body.description } : {}),
      ...(body.createdBy ? { createdBy: body.createdBy } : {}),
      ...(body.expiry != null ? { expiresAt: expiresAt(body.expiry, now) } : {}),
    };
    await updateAdminKeys(store, (all) => {
      if (all.keys.some((k) => k.id === stored.id)) return all; // an earlier try landed, its answer was lost
      if (all.keys.some((k) => k.hash === stored.hash)) throw new ApiError(409, 'KEY_EXISTS', 'This key is already an admin key', 'let the node generate the key (omit "key")');
      return { keys: [...all.keys, stored] };
    });
    audit(c, 'admin.key.add', { keyId: stored.id, label: stored.label });
    return c.json(createdKey(stored, key, now), 201);
  });

  // DSS's delete_key sends the key itself (accepted for its sake, see docs/admin.md#revoking-keys);
  // delete_key_by_id its id with /key appended.
  const revokeAdmin = (byIdOnly: boolean) => async (c: AdminContext) => {
    const segment = c.req.param('key') ?? '';
    let revoked: string | undefined;
    await updateAdminKeys(store, async (all) => {
      const keys = [...all.keys];
      const at = byIdOnly ? keys.findIndex((k) => keyId(k) === segment) : await findKey(keys, segment);
      if (at === -1 && revoked !== undefined) return all; // gone since an earlier try found it: revoked either way
      if (at === -1) throw ApiError.notFound('KEY_NOT_FOUND', `No admin key has this ${byIdOnly ? 'id' : 'id, hash prefix, label or value'}`);
      revoked = keyId(keys.splice(at, 1)[0]!);
      return { keys };
    });
    return revokedAnswer(c, 'admin.key.revoke', revoked!);
  };
  app.delete('/keys/:key', keyInPath(revokeAdmin(false)));
  app.delete('/keys/:key/key', keyInPath(revokeAdmin(true)));

  app.get('/services/:serviceId/keys', async (c) => c.json({ keys: await services.listKeys(idParam(c, 'serviceId')) }));
  app.post('/services/:serviceId/keys', async (c) => {
    const serviceId = idParam(c, 'serviceId');
    const body = await readJson(c, CreateKeyRequest, max);
    const created = await services.addKey(serviceId, body.label, body.key);
    audit(c, 'service.key.add', { serviceId, keyId: created.id, label: created.label });
    return c.json(created, 201);
  });
  app.delete(
    '/services/:serviceId/keys/:key',
    keyInPath(async (c) => {
      const serviceId = idParam(c, 'serviceId');
      return revokedAnswer(c, 'service.key.revoke', await services.revokeKey(serviceId, c.req.param('key') ?? ''), { serviceId });
    }),
  );

  /**
   * For routes whose path may hold a raw key: an unexpected error is logged here without the
   * path (the app's error handler logs the path of a bug), and answered as the generic 500.
   */
  function keyInPath(handler: (c: AdminContext) => Promise<Response>) {
    return async (c: AdminContext) => {
      try {
        return await handler(c);
      } catch (e) {
        if (isApiError(e)) throw e;
        deps.log.error('unhandled error', { requestId: c.get('requestId'), route: c.req.routePath, error: describe(e), stack: (e as Error).stack });
        throw new ApiError(500, 'INTERNAL_ERROR', 'Internal error', `request id ${c.get('requestId')}`);
      }
    };
  }

  function revokedAnswer(c: AdminContext, action: string, id: string, fields: Record<string, unknown> = {}) {
    audit(c, action, { ...fields, keyId: id });
    const body: RevokedKey = { revoked: true, id };
    return c.json(body);
  }

  return app;
}
