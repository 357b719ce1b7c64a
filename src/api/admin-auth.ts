import { z } from 'zod';
import { StoredKey } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { extractKey, hashKey } from './auth.js';

export const AdminKeys = z.object({ keys: z.array(StoredKey).default([]) });
export type AdminKeys = z.infer<typeof AdminKeys>;

export async function readAdminKeys(store: ObjectStore): Promise<AdminKeys> {
  const obj = await store.get(layout.adminKeys());
  return obj ? parseStoredJson(obj.body, AdminKeys, 'admin/keys.json', 'ADMIN_KEYS_INVALID') : { keys: [] };
}

export async function writeAdminKeys(store: ObjectStore, keys: AdminKeys): Promise<void> {
  await store.put(layout.adminKeys(), new TextEncoder().encode(JSON.stringify(keys, null, 2) + '\n'));
}

/**
 * Admin callers: Basic (key as user name) or Bearer, checked against admin/keys.json (read
 * fresh: admin traffic is rare and a revocation must bite at once) and the bootstrap key.
 * Service keys never open the admin API. Returns the key's label, for the audit log.
 */
export async function authenticateAdmin(store: ObjectStore, bootstrapKey: string | undefined, authorization: string | undefined): Promise<string> {
  if (!authorization) throw new ApiError(401, 'MISSING_CREDENTIALS', 'The admin API requires an admin key', 'send it as the Basic user name or as a Bearer token');
  const key = extractKey(authorization);
  if (!key) throw new ApiError(401, 'INVALID_CREDENTIALS', 'The Authorization header is not Basic or Bearer credentials');
  const hash = await hashKey(key);
  const candidates = [...(bootstrapKey ? [{ label: 'bootstrap', hash: await hashKey(bootstrapKey) }] : []), ...(await readAdminKeys(store)).keys];
  let match: string | undefined;
  // Compare against every key, so timing does not tell which one matched.
  for (const k of candidates) if (constantTimeEqual(k.hash, hash) && match === undefined) match = k.label;
  if (match === undefined) throw new ApiError(401, 'INVALID_CREDENTIALS', 'The admin key is not valid');
  return match;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
