import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../src/errors.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import type { WriteCondition, ObjectStore } from '../../src/storage/object-store.js';

export async function tempStore(): Promise<{ store: FsObjectStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-test-'));
  return { store: new FsObjectStore(dir), dir };
}

/** A real store that counts reads and can be switched off, as if the backend were unreachable. */
export class FlakyStore implements ObjectStore {
  reads = 0;
  conditionalReads = 0;
  down = false;
  constructor(private readonly inner: ObjectStore) {}

  private check() {
    if (this.down) throw ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be read right now');
  }
  async get(key: string) {
    this.check();
    this.reads++;
    return this.inner.get(key);
  }
  async getIfChanged(key: string, etag: string) {
    this.check();
    this.conditionalReads++;
    return this.inner.getIfChanged(key, etag);
  }
  async put(key: string, body: Uint8Array, condition?: WriteCondition) {
    this.check();
    return this.inner.put(key, body, condition);
  }
  async list(prefix: string) {
    this.check();
    return this.inner.list(prefix);
  }
  async delete(key: string) {
    this.check();
    return this.inner.delete(key);
  }
}

export const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
