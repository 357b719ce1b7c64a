import type { ZodType } from 'zod';
import { ApiError, formatIssues } from '../errors.js';

/**
 * A JSON document the node keeps in the object store (service.json, manifest.json), checked
 * against its schema. A bad one is the deployment's fault, not the caller's: 500 with the
 * schema issues in detailedMessage.
 */
export function parseStoredJson<T>(body: Uint8Array, schema: ZodType<T>, what: string, errorType: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new ApiError(500, errorType, `${what} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError(500, errorType, `${what} is invalid`, formatIssues(parsed.error.issues));
  return parsed.data;
}
