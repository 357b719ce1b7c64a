import type { CreatedKey, KeyExpiry, KeyInfo, StoredAdminKey, StoredKey } from '@apinode/protocol';
import { hashKey } from './key-hash.js';
import { ApiError } from '../errors.js';

/** What admin and service keys share: an id, a hash, metadata. */
type AnyKey = StoredKey | StoredAdminKey;

const base64url = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** A random key: 32 bytes, base64url (Web Crypto, so it runs on every runtime). */
export const newKey = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** A random key id: 16 hex digits. Ids are not secret; they name a key without sending it. */
export const newKeyId = (): string => hex(crypto.getRandomValues(new Uint8Array(8)));

/**
 * The key's id. Keys stored before ids existed get one derived from their hash (its first 16
 * hex digits): stable across reads and instances, and written back with the next change.
 */
export const keyId = (k: AnyKey): string => k.id ?? k.hash.slice('sha256:'.length, 'sha256:'.length + 16);

export const withIds = <K extends AnyKey>(keys: readonly K[]): K[] => keys.map((k) => ({ ...k, id: keyId(k) }));

export const isExpired = (k: AnyKey, now: number): boolean => 'expiresAt' in k && k.expiresAt !== undefined && Date.parse(k.expiresAt) <= now;

export function keyInfo(k: AnyKey, now = Date.now()): KeyInfo {
  const admin = k as StoredAdminKey;
  return {
    id: keyId(k),
    label: k.label ?? null,
    ...(k.createdAt ? { createdAt: k.createdAt } : {}),
    hashPrefix: k.hash.slice(7, 15),
    ...(admin.description ? { description: admin.description } : {}),
    ...(admin.createdBy ? { createdBy: admin.createdBy } : {}),
    ...(admin.expiresAt ? { expiresAt: admin.expiresAt, expired: isExpired(k, now) } : {}),
  };
}

/** The answer to a creation: what lists show, plus the key itself, this once. */
export const createdKey = (stored: AnyKey, key: string, now = Date.now()): CreatedKey => ({ ...keyInfo(stored, now), key, createdAt: stored.createdAt ?? new Date(now).toISOString() });

/** What lists show as `hashPrefix` (8 hex digits) or more of the hash, with or without "sha256:". */
const HASH_PREFIX = /^(?:sha256:)?([0-9a-f]{8,64})$/;

/**
 * The index of the key a path segment names: its id first, then the key itself (DSS's
 * delete_key sends it: accepted for compatibility, see docs/admin.md#revoking-keys), then a
 * prefix of its hash, then a label; a prefix or label must name exactly one key (else 409).
 * -1 when nothing matches. Error texts never repeat the segment: it may be a raw key.
 */
export async function findKey(keys: readonly AnyKey[], segment: string): Promise<number> {
  const byId = keys.findIndex((k) => keyId(k) === segment);
  if (byId !== -1) return byId;
  const hash = await hashKey(segment);
  const byKey = keys.findIndex((k) => k.hash === hash);
  if (byKey !== -1) return byKey;
  const prefix = HASH_PREFIX.exec(segment)?.[1];
  const byPrefix = prefix ? keys.flatMap((k, i) => (k.hash.startsWith(`sha256:${prefix}`) ? [i] : [])) : [];
  if (byPrefix.length > 1) throw new ApiError(409, 'KEY_LABEL_AMBIGUOUS', `${byPrefix.length} keys have this hash prefix`, `${byPrefix.length} keys have this hash prefix: give more of the hash, or revoke by id (listed with the keys)`);
  if (byPrefix.length === 1) return byPrefix[0]!;
  const labelled = keys.flatMap((k, i) => (k.label === segment ? [i] : []));
  if (labelled.length > 1) throw new ApiError(409, 'KEY_LABEL_AMBIGUOUS', `${labelled.length} keys carry this label`, `${labelled.length} keys carry this label: revoke by id (listed with the keys)`);
  return labelled[0] ?? -1;
}

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

/** The instant an expiry names (see KeyExpiry in the protocol), as ISO 8601; 400 when unreadable or already past. */
export function expiresAt(expiry: KeyExpiry, now: number): string {
  const text = String(expiry).trim();
  let at: number;
  if (typeof expiry === 'number' || /^\d+(\.\d+)?$/.test(text)) at = now + Number(text) * DAY_MS;
  else if (DATE.test(text)) at = Date.parse(`${text}T00:00:00Z`) + DAY_MS; // through that day
  else if (DATE_TIME.test(text)) at = Date.parse(text);
  else at = NaN;
  if (!Number.isFinite(at) || at > now + 100 * 365 * DAY_MS) {
    throw ApiError.badRequest('INVALID_REQUEST', `"expiry" ${JSON.stringify(expiry)} is not a lifetime in days, a date or a date-time`, 'use a number of days (30), a date (2026-12-31: valid through that day, UTC) or an ISO 8601 date-time with a time zone (2026-12-31T18:00:00Z)');
  }
  if (at <= now) throw ApiError.badRequest('INVALID_REQUEST', `"expiry" ${JSON.stringify(expiry)} is not in the future`, 'a key that is already expired would never work');
  return new Date(at).toISOString();
}
