/** A stored object and its version tag (ETag, or an equivalent the backend guarantees to change). */
export interface StoredObject {
  readonly body: Uint8Array;
  readonly etag: string;
}

export const NOT_MODIFIED = Symbol('not-modified');

/**
 * Object storage as the node needs it: S3, R2 or a local folder. Keys use "/" separators.
 * Implementations throw ApiError 503 (STORE_UNAVAILABLE) when the backend cannot be reached,
 * and return null for a missing key: absence is an answer, not a failure.
 */
export interface ObjectStore {
  get(key: string): Promise<StoredObject | null>;
  /** Conditional read: NOT_MODIFIED when the object still has this etag. */
  getIfChanged(key: string, etag: string): Promise<StoredObject | typeof NOT_MODIFIED | null>;
  put(key: string, body: Uint8Array): Promise<void>;
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}
