import { ApiError } from '../errors.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ArchiveInput } from './archive.js';
import { archiveTooLarge } from './archive-limits.js';

export { archiveTooLarge };

/**
 * Where `importFromArchive?filePath=…` reads a generation archive from (the DSS client's
 * import_generation_from_archive). The path means what the runtime can offer: a file under the
 * node's import folder on Node (src/runtime/node-import.ts), an object key in the bucket on
 * Lambda and Workers, which have no file system an operator could put an archive in.
 */
export interface ImportSource {
  /**
   * The archive, as bytes or a stream of them (the unpacker caps what it reads). ApiError 403
   * outside what may be read, 404 when absent, 413 when its known size is above maxBytes.
   */
  read(path: string, maxBytes: number): Promise<ArchiveInput>;
}

// The DSS Python client shows only errorType and detailedMessage: each detail says it all.
export const importForbidden = (path: string, allowed: string) =>
  new ApiError(403, 'IMPORT_PATH_FORBIDDEN', `"${path}" is outside what importFromArchive may read`, `"${path}" is refused: only ${allowed} can be imported`);

export const importNotFound = (path: string) =>
  ApiError.notFound('IMPORT_NOT_FOUND', `There is no archive at "${path}"`);

/**
 * The default source: object keys under `prefix` in the node's own bucket, so CI can upload an
 * archive to S3 or R2 and then import it. A leading "/" is ignored: the DSS client sends
 * absolute paths (os.path.abspath), so "/imports/v3.tar.gz" names the key "imports/v3.tar.gz".
 */
export function bucketImports(store: ObjectStore, prefix = 'imports/'): ImportSource {
  // The ObjectStore port reads whole objects: the archive is in memory, its contents are not yet.
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
