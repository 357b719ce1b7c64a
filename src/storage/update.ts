import { ApiError } from '../errors.js';
import { isPreconditionFailed, type ObjectStore, type StoredObject } from './object-store.js';

/** How often a read-modify-write tries again when another writer got there first, and how long it waits between tries. */
export interface RetryPolicy {
  /** Tries in all, the first included. @default 12 */
  readonly attempts: number;
  /** Upper bound of the first wait; doubles each try ("full jitter": the wait is uniform below it). @default 20 */
  readonly baseDelayMs: number;
  /** Cap of the upper bound. @default 1000 */
  readonly maxDelayMs: number;
}

/**
 * Enough for 20 admins writing one file at the same instant (test/e2e/admin-races.test.ts):
 * at most about 6 s of waiting in all before 409 CONFLICT, half that on average.
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 12, baseDelayMs: 20, maxDelayMs: 1000 };

export const encodeJson = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v, null, 2) + '\n');

/**
 * Read-modify-write of one JSON object in the store (service.json, admin/keys.json), safe
 * against concurrent writers on any instance: the change is written only if the object still has
 * the etag it was read with (or, when it was absent, only if it still is). When another writer got
 * there first, the object is read again and the change applied again to that fresh copy, after a
 * random wait, up to `policy.attempts` times; then 409 CONFLICT. So a change that is answered as
 * done is in the object, and no change overwrites another it did not see.
 *
 * `parse` turns what was read (null: absent) into the value, or throws (404 for a missing
 * service). `change` may throw too (409 KEY_EXISTS, 404 KEY_NOT_FOUND): that ends the update,
 * with nothing written. Both run again on every try, so they must decide from what they are given.
 */
export async function updateJson<T>(
  store: ObjectStore,
  key: string,
  parse: (obj: StoredObject | null) => T,
  change: (current: T) => T | Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (attempt > 0) await sleep(Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
    const obj = await store.get(key);
    const next = await change(parse(obj));
    try {
      await store.put(key, encodeJson(next), obj ? { ifMatch: obj.etag } : { ifNoneMatch: '*' });
      return next;
    } catch (e) {
      if (!isPreconditionFailed(e)) throw e;
    }
  }
  throw new ApiError(
    409,
    'CONFLICT',
    `"${key}" kept changing while this change was being applied; nothing was changed, try again`,
    `${policy.attempts} tries each found "${key}" changed by another writer between reading and writing it; nothing was changed, try again`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
