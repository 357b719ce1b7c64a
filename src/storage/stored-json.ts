import { statusesOf } from '@apinode/protocol';
import type { ZodType } from 'zod';
import { ApiError, formatIssues } from '../errors.js';

/** What a bad stored document is answered as; its status is the one the vocabulary gives it. */
export type StoredDocumentError = 'SERVICE_CONFIG_INVALID' | 'ADMIN_KEYS_INVALID' | 'GENERATION_BROKEN';

/**
 * A JSON document the node keeps in the object store (service.json, manifest.json), checked
 * against its schema. A bad one is the deployment's fault, not the caller's: a 5xx with the
 * schema issues in detailedMessage. 503 for the documents admins rewrite (service.json,
 * admin/keys.json: the store holds a bad copy, which a write or a replica catching up fixes),
 * 500 for a committed generation's, which is immutable.
 */
export function parseStoredJson<T>(body: Uint8Array, schema: ZodType<T>, what: string, errorType: StoredDocumentError): T {
  const status = statusesOf(errorType)[0]!;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new ApiError(status, errorType, `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(status, errorType, `${what} is invalid`, formatIssues(parsed.error.issues));
  return parsed.data;
}
