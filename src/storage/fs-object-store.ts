import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ApiError, isApiError } from '../errors.js';
import { withFileLock } from './fs-lock.js';
import { NOT_MODIFIED, PreconditionFailed, isPreconditionFailed, type ObjectStore, type StoredObject, type WriteCondition } from './object-store.js';

/**
 * Local-folder object store (Node only). Writes are atomic: temp file, then rename.
 *
 * The etag is a hash of the content (128 bits of SHA-256), computed only when asked for: two
 * writes in one clock tick still get different etags, and a model file read for scoring is not
 * hashed twice. Every replacement and deletion of a key happens under that key's lock (fs-lock.ts:
 * a queue in this process, a lock file across processes), so a conditional write's check and its
 * rename are one step for every writer on this host, whichever process it runs in.
 */
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
    const body = await readOrNull(this.path(key));
    if (body === null) return null;
    const got = lazyEtag(body);
    return ifNoneMatch === got.etag ? NOT_MODIFIED : got;
  }

  async put(key: string, body: Uint8Array, condition?: WriteCondition): Promise<string> {
    const p = this.path(key);
    const tmp = `${p}.${randomUUID()}.tmp`;
    try {
      await mkdir(dirname(p), { recursive: true });
      // The bytes go to disk before the lock is taken: the lock only covers check and rename.
      await writeFile(tmp, body);
      await withFileLock(p, async () => {
        if (condition && !holds(condition, await readOrNull(p))) throw new PreconditionFailed(key);
        await rename(tmp, p);
      });
      return etagOf(body);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (isPreconditionFailed(e) || isApiError(e)) throw e;
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
        // Temp files of writes in flight and lock files both end in ".tmp".
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
    const p = this.path(key);
    try {
      await stat(dirname(p));
      await withFileLock(p, () => rm(p, { force: true }));
    } catch (e) {
      if (isMissing(e)) return; // no folder, no object
      if (isApiError(e)) throw e;
      throw unavailable(e);
    }
  }
}

/** A read object whose etag is hashed from the body on first use (an own getter: a spread copy keeps it). */
function lazyEtag(body: Uint8Array): StoredObject {
  let tag: string | undefined;
  return {
    body,
    get etag() {
      return (tag ??= etagOf(body));
    },
  };
}

/** Quoted like an HTTP ETag: 32 hex digits of the content's SHA-256. */
const etagOf = (body: Uint8Array): string => `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;

function holds(condition: WriteCondition, current: Uint8Array | null): boolean {
  if ('ifNoneMatch' in condition) return current === null;
  return current !== null && etagOf(current) === condition.ifMatch;
}

async function readOrNull(p: string): Promise<Uint8Array | null> {
  try {
    const b = await readFile(p);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if (isMissing(e)) return null;
    throw unavailable(e);
  }
}

const isMissing = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

const unavailable = (e: unknown) =>
  ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be read right now', `local store error ${(e as { code?: string }).code ?? 'unknown'}`);
