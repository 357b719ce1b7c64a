/** A stored object and its version tag (ETag, or an equivalent the backend guarantees to change). */
export interface StoredObject {
  readonly body: Uint8Array;
  readonly etag: string;
}

export const NOT_MODIFIED = Symbol('not-modified');

/**
 * A write's precondition (DESIGN 3): replace the object only if it still has the etag that was
 * read (`ifMatch`, HTTP If-Match), or create it only if no object has the key (`ifNoneMatch: '*'`).
 * An `ifMatch` write to a missing key fails: the object it was meant to replace is gone.
 */
export type WriteCondition = { readonly ifMatch: string } | { readonly ifNoneMatch: '*' };

/**
 * A conditional write whose precondition did not hold: someone else wrote (or deleted) the
 * object since it was read, or created it first. Callers catch it and re-read (storage/update.ts),
 * or answer 409. Not an ApiError: reaching a client as is would be a bug.
 */
export class PreconditionFailed extends Error {
  constructor(readonly key: string) {
    super(`precondition failed writing "${key}"`);
    this.name = 'PreconditionFailed';
  }
}

export const isPreconditionFailed = (e: unknown): e is PreconditionFailed => e instanceof PreconditionFailed;

/**
 * Object storage as the node needs it: S3, R2 or a local folder. Keys use "/" separators.
 * Implementations throw ApiError 503 (STORE_UNAVAILABLE) when the backend cannot be reached,
 * and return null for a missing key: absence is an answer, not a failure.
 */
export interface ObjectStore {
  get(key: string): Promise<StoredObject | null>;
  /** Conditional read: NOT_MODIFIED when the object still has this etag. */
  getIfChanged(key: string, etag: string): Promise<StoredObject | typeof NOT_MODIFIED | null>;
  /**
   * Writes the object whole and answers its new etag. With a condition, the check and the write
   * are one atomic step on every backend (two writers holding the same etag: exactly one wins);
   * a condition that does not hold throws PreconditionFailed and writes nothing.
   */
  put(key: string, body: Uint8Array, condition?: WriteCondition): Promise<string>;
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}
