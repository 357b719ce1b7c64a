import { ApiNodeError } from '@apinode/client';
import type { ErrorType } from '@apinode/protocol';
import { ApiError } from '@apinode/node/errors';

/** A mistake of the user's: shown as one line and a hint, exit code 1, never a stack. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface Out {
  json: boolean;
  /** Human text, or the value as JSON with --json. */
  result(value: unknown, human: () => string): void;
}

export const output = (json: boolean): Out => ({
  json,
  result(value, human) {
    process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
  },
});

/** What to do next, per errorType (the node's, and the client's UNREACHABLE: no answer at all). */
const HINTS: { readonly [T in ErrorType | 'UNREACHABLE']?: string } = {
  UNREACHABLE: 'is the node running? check --url (or APINODE_URL)',
  MISSING_CREDENTIALS: 'pass --admin-key or set APINODE_ADMIN_KEY',
  INVALID_CREDENTIALS: 'check --admin-key (or APINODE_ADMIN_KEY); service keys do not open the admin API',
  SERVICE_NOT_FOUND: 'list services with: apinode-admin service list',
  SERVICE_EXISTS: 'pick another id, or delete the service first',
  GENERATION_EXISTS: 'generations are immutable: give the new one another "generation" id in manifest.json',
  GENERATION_NOT_COMMITTED: 'list generations with: apinode-admin generation list <service>',
  INVALID_GENERATION: 'fix the problems above; apinode-admin generation validate <folder> checks without uploading',
  NOT_FOUND: 'is the admin API enabled on this node? (APINODE_ADMIN=on)',
  IMPORT_DIR_NOT_CONFIGURED: 'start the node with APINODE_IMPORT_DIR=<folder>, or upload instead: apinode-admin generation push <archive> --service <id>',
  IMPORT_PATH_FORBIDDEN: 'the path is read by the node: on Node, a file under its APINODE_IMPORT_DIR; on Lambda and Workers, a bucket key under imports/',
  IMPORT_NOT_FOUND: 'the path is read by the node, not by this CLI: is the archive where the node looks?',
  KEY_LABEL_AMBIGUOUS: 'revoke by id: apinode-admin admin-key list (or key list <service>) shows the ids',
  KEY_EXPIRED: 'ask an administrator for a new admin key (apinode-admin admin-key add)',
  STORE_UNAVAILABLE: "the node cannot read its bucket: check the bucket and the node's access to it, then retry",
  SERVICE_CONFIG_INVALID: 'services/<id>/service.json in the bucket is not valid: restore an earlier version of it (the bucket is versioned)',
  ADMIN_KEYS_INVALID: 'admin/keys.json in the bucket is not valid: restore an earlier version of it (the bucket is versioned)',
};

/** Prints an error the way a person needs it and returns the exit code. */
export function report(e: unknown): number {
  // Local work (validate, build, bucket mode) fails with the node's own error type.
  if (e instanceof ApiError) e = new ApiNodeError(e.status, e.errorType, e.message, e.detailedMessage);
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    return 1;
  }
  if (e instanceof ApiNodeError) {
    process.stderr.write(`error: ${e.message} (${e.errorType}, HTTP ${e.status || 'none'})\n`);
    if (e.detailedMessage && e.detailedMessage !== e.message && e.detailedMessage.includes('\n')) {
      for (const line of e.detailedMessage.split('\n')) process.stderr.write(`  - ${line}\n`);
    }
    const hint = Object.hasOwn(HINTS, e.errorType) ? HINTS[e.errorType as keyof typeof HINTS] : undefined;
    if (hint) process.stderr.write(`hint: ${hint}\n`);
    return e.status >= 500 || e.status === 0 ? 2 : 1;
  }
  process.stderr.write(`error: ${(e as Error).message ?? String(e)}\n`);
  return 2;
}
