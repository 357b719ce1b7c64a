import type { Context } from 'hono';
import { Id } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { AdminCaller } from './admin-auth.js';
import type { Deps } from '../services/deps.js';
import type { AppEnv } from './env.js';

/** Admin routes know who called: the admin key's id and label (admin-auth.ts). */
export type AdminEnv = AppEnv & { Variables: AppEnv['Variables'] & { admin: AdminCaller } };
export type AdminContext = Context<AdminEnv>;

/**
 * One audit line per change: who (the admin key's label, else its id), what, when. Fields
 * are ids and labels only, never a key: callers must not pass what a client sent as a key.
 */
export const auditor =
  (deps: Deps) =>
  (c: AdminContext, action: string, fields: Record<string, unknown> = {}): void => {
    const who = c.get('admin');
    deps.log.info('audit', { who: who.label ?? who.id, whoKeyId: who.id, action, ...fields, requestId: c.get('requestId') });
  };

/** A path parameter that must be a service or generation id (safe as an object-store path segment). */
export function idParam(c: AdminContext, name: string): string {
  const v = c.req.param(name) ?? '';
  if (!Id.safeParse(v).success) throw ApiError.badRequest('INVALID_REQUEST', `"${v}" is not a valid ${name}`);
  return v;
}
