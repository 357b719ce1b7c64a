import { ApiError } from '../errors.js';
import type { ObjectStore } from '../storage/object-store.js';

/**
 * Where `importFromArchive?filePath=…` reads a generation archive from (the DSS client's
 * import_generation_from_archive). The path means what the runtime can offer: a file under the
 * node's import folder on Node (src/runtime/node-import.ts), an object key in the bucket on
 * Lambda and Workers, which have no file system an operator could put an archive in.
 */
export interface ImportSource {
  /** The archive's bytes. ApiError 403 outside what may be read, 404 when absent, 413 above maxBytes. */
  read(path: string, maxBytes: number): Promise<Uint8Array>;
}

// The DSS Python client shows only errorType and detailedMessage: each detail says it all.
export const importForbidden = (path: string, allowed: string) =>
  new ApiError(403, 'IMPORT_PATH_FORBIDDEN', `"${path}" is outside what importFromArchive may read`, `"${path}" is refused: only ${allowed} can be imported`);

export const importNotFound = (path: string) =>
  ApiError.notFound('IMPORT_NOT_FOUND', `There is no archive at "${path}"`);

export const archiveTooLarge = (maxBytes: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `The archive is larger than ${maxBytes} bytes`, 'raise APINODE_MAX_IMPORT_BYTES');

/**
 * The default source: object keys under `prefix` in the node's own bucket, so CI can upload an
 * archive to S3 or R2 and then import it. A leading "/" is ignored: the DSS client sends
 * absolute paths (os.path.abspath), so "/imports/v3.tar.gz" names the key "imports/v3.tar.gz".
 */
export function bucketImports(store: ObjectStore, prefix = 'imports/'): ImportSource {
  return {
    async read(path, maxBytes) {
      const key = path.replace(/^\/+/, '');
      const segments = key.split('/');
      // Keys are not paths, but ".." must not even look like a way out of the prefix.
      if (!key.startsWith(prefix) || segments.some((s) => s === '' || s === '.' || s === '..')) {
        throw importForbidden(path, `object keys under "${prefix}" in the bucket`);
      }
      const obj = await store.get(key);
      if (!obj) throw importNotFound(path);
      if (obj.body.byteLength > maxBytes) throw archiveTooLarge(maxBytes);
      return obj.body;
    },
  };
}
