import { AdminKeysFile } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { isExpired, keyId, withIds } from '../services/keys.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { updateJson } from '../storage/update.js';
import { hashKey } from '../services/key-hash.js';
import { extractKey } from './auth.js';

/** Who called the admin API. The bootstrap key (APINODE_ADMIN_KEY) is id and label "bootstrap". */
export interface AdminCaller {
  readonly id: string;
  readonly label: string | undefined;
}

/** admin/keys.json, every key with its id (derived for keys stored before ids, see keys.ts). */
export async function readAdminKeys(store: ObjectStore): Promise<AdminKeysFile> {
  return parseAdminKeys(await store.get(layout.adminKeys()));
}

function parseAdminKeys(obj: StoredObject | null): AdminKeysFile {
  const file = obj ? parseStoredJson(obj.body, AdminKeysFile, 'admin/keys.json', 'ADMIN_KEYS_INVALID') : { keys: [] };
  return { keys: withIds(file.keys) };
}

/**
 * Changes admin/keys.json safely against concurrent admins: written only If-Match the copy read
 * (created only if absent), else re-read and `change` applied again (storage/update.ts). A
 * revocation is therefore never undone by a racing addition, and vice versa.
 */
export function updateAdminKeys(store: ObjectStore, change: (file: AdminKeysFile) => AdminKeysFile | Promise<AdminKeysFile>): Promise<AdminKeysFile> {
  return updateJson(store, layout.adminKeys(), parseAdminKeys, change);
}

/**
 * Admin callers: Basic (key as user name) or Bearer, checked against admin/keys.json (read
 * fresh on every request, never cached: admin traffic is rare and a revocation must bite at
 * once) and the bootstrap key.
 * Service keys never open the admin API; an expired admin key is refused like an unknown one
 * (401), with its own errorType so its holder knows to ask for a new one.
 */
export async function authenticateAdmin(store: ObjectStore, bootstrapKey: string | undefined, authorization: string | undefined, now = Date.now()): Promise<AdminCaller> {
  if (!authorization) throw new ApiError(401, 'MISSING_CREDENTIALS', 'The admin API requires an admin key', 'send it as the Basic user name or as a Bearer token');
  const key = extractKey(authorization);
  if (!key) throw new ApiError(401, 'INVALID_CREDENTIALS', 'The Authorization header is not Basic or Bearer credentials');
  const hash = await hashKey(key);
  const bootstrap = bootstrapKey ? [{ id: 'bootstrap', label: 'bootstrap', hash: await hashKey(bootstrapKey) }] : [];
  const candidates = [...bootstrap, ...(await readAdminKeys(store)).keys];
  let match: (typeof candidates)[number] | undefined;
  // Compare against every key, so timing does not tell which one matched.
  for (const k of candidates) if (constantTimeEqual(k.hash, hash) && match === undefined) match = k;
  if (match === undefined) throw new ApiError(401, 'INVALID_CREDENTIALS', 'The admin key is not valid');
  if (isExpired(match, now)) {
    const at = 'expiresAt' in match ? match.expiresAt : undefined;
    throw new ApiError(401, 'KEY_EXPIRED', `The admin key expired at ${at}`, `the admin key expired at ${at}: ask an administrator for a new one`);
  }
  return { id: keyId(match), label: match.label };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
