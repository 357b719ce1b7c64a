import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../errors.js';
import { NOT_MODIFIED, type ObjectStore, type StoredObject } from './object-store.js';

/** Local-folder object store (Node only). Writes are atomic: temp file, then rename. */
export class FsObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    if (key.split('/').some((s) => s === '..' || s === '')) throw new Error(`invalid object key "${key}"`);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<StoredObject | null> {
    const got = await this.read(key, undefined);
    return got === NOT_MODIFIED ? null : got;
  }

  async getIfChanged(key: string, etag: string): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    return this.read(key, etag);
  }

  private async read(key: string, ifNoneMatch: string | undefined): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    const p = this.path(key);
    try {
      const before = await stat(p);
      const etag = `"${before.size.toString(16)}-${Math.trunc(before.mtimeMs * 1000).toString(16)}"`;
      if (ifNoneMatch === etag) return NOT_MODIFIED;
      const body = await readFile(p);
      return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), etag };
    } catch (e) {
      if (isMissing(e)) return null;
      throw unavailable(e);
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const p = this.path(key);
    const tmp = `${p}.${randomUUID()}.tmp`;
    try {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(tmp, body);
      await rename(tmp, p);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw unavailable(e);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isMissing(e)) return;
        throw unavailable(e);
      }
      for (const ent of entries) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) await walk(full);
        else if (!ent.name.endsWith('.tmp')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    // Start from the deepest folder the prefix names, not the whole tree.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(folder ? this.path(folder) : this.root);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    try {
      await rm(this.path(key), { force: true });
    } catch (e) {
      throw unavailable(e);
    }
  }
}

const isMissing = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const unavailable = (e: unknown) =>
  ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be read right now', `local store error ${(e as { code?: string }).code ?? 'unknown'}`);
