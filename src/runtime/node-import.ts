import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ApiError } from '../errors.js';
import { archiveTooLarge, importForbidden, importNotFound, type ImportSource } from '../services/import-source.js';

const within = (root: string, path: string) => {
  const r = relative(root, path);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
};

/**
 * importFromArchive on Node: files under one folder (APINODE_IMPORT_DIR), named by an absolute
 * path (what the DSS client sends) or one relative to the folder. The folder is checked twice:
 * on the path as written (so "..", even to a file that does not exist, is 403 and never 404)
 * and on the path with every symlink resolved (so a link inside cannot lead outside).
 */
export function folderImports(dir: string | undefined): ImportSource {
  if (!dir) {
    return {
      read: async () => {
        throw new ApiError(403, 'IMPORT_DIR_NOT_CONFIGURED', 'This node imports no archives from paths', 'this node imports no archives from paths: set APINODE_IMPORT_DIR to the folder archives may be imported from, or upload the archive (POST services/{id}/generations)');
      },
    };
  }
  const root = resolve(dir);
  const allowed = `files under ${root} (APINODE_IMPORT_DIR)`;
  return {
    async read(path, maxBytes) {
      const target = resolve(root, path);
      if (!within(root, target)) throw importForbidden(path, allowed);
      let real: string;
      try {
        real = await realpath(target);
      } catch {
        throw importNotFound(path);
      }
      if (!within(await realpath(root), real)) throw importForbidden(path, allowed);
      const info = await stat(real);
      if (!info.isFile()) throw ApiError.badRequest('INVALID_REQUEST', `"${path}" is not a file`, 'name a generation archive (tar.gz, tar or zip)');
      if (info.size > maxBytes) throw archiveTooLarge(maxBytes);
      return chunks(real);
    },
  };
}

/** The file in 1 MiB chunks, opened when the unpacker starts reading and closed when it stops. */
async function* chunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path);
  try {
    for (;;) {
      const buffer = new Uint8Array(1024 * 1024);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}
