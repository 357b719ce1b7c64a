import type { R2Bucket } from '@cloudflare/workers-types';
import { ApiError, describe } from '../errors.js';
import { NOT_MODIFIED, PreconditionFailed, type ObjectStore, type StoredObject, type WriteCondition } from './object-store.js';

/**
 * Object store on an R2 bucket binding (Workers). The version tag is R2's etag; conditional
 * reads use `onlyIf: { etagDoesNotMatch }`, so an unchanged service.json costs no body transfer;
 * conditional writes use `onlyIf` too (etagMatches for If-Match, etagDoesNotMatch "*" for If-None-Match).
 * The binding type is imported as a module type so this file type-checks under Node too
 * (tests seed a Miniflare bucket through it).
 */
export class R2ObjectStore implements ObjectStore {
  constructor(
    private readonly bucket: R2Bucket,
    private readonly opts: { readonly listPageSize?: number } = {},
  ) {}

  async get(key: string): Promise<StoredObject | null> {
    const got = await this.read(key, undefined);
    return got === NOT_MODIFIED ? null : got;
  }

  getIfChanged(key: string, etag: string): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    return this.read(key, etag);
  }

  private async read(key: string, etag: string | undefined): Promise<StoredObject | typeof NOT_MODIFIED | null> {
    try {
      const obj = await this.bucket.get(key, etag === undefined ? undefined : { onlyIf: { etagDoesNotMatch: etag } });
      if (obj === null) return null;
      // A failed precondition yields the object's metadata without a body. (Not `'body' in obj`:
      // on Miniflare's Node proxy that reads, and so consumes, the body.)
      if (!('arrayBuffer' in obj)) return NOT_MODIFIED;
      return { body: new Uint8Array(await obj.arrayBuffer()), etag: obj.etag };
    } catch (e) {
      throw unavailable(e);
    }
  }

  /** Conditions are R2's own `onlyIf` (checked and applied in one step by R2); a failed one makes put answer null. */
  async put(key: string, body: Uint8Array, condition?: WriteCondition): Promise<string> {
    const onlyIf = !condition ? undefined : 'ifMatch' in condition ? { etagMatches: condition.ifMatch } : { etagDoesNotMatch: '*' };
    let etag: string | null;
    try {
      // A plain view, no copy: Miniflare's bucket proxy (seeding from Node) rejects Buffer.
      const obj = await this.bucket.put(key, new Uint8Array(body.buffer, body.byteOffset, body.byteLength), onlyIf ? { onlyIf } : undefined);
      etag = obj === null ? null : obj.etag;
    } catch (e) {
      throw unavailable(e);
    }
    if (etag === null) throw new PreconditionFailed(key);
    return etag;
  }

  /** Every key under the prefix: R2 answers at most 1000 per call (@default listPageSize 1000), so follow the cursor. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      let cursor: string | undefined;
      do {
        const page = await this.bucket.list({ prefix, limit: this.opts.listPageSize ?? 1000, ...(cursor ? { cursor } : {}) });
        for (const o of page.objects) keys.push(o.key);
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
    } catch (e) {
      throw unavailable(e);
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    try {
      await this.bucket.delete(key);
    } catch (e) {
      throw unavailable(e);
    }
  }
}

/** Only R2's numeric error code reaches the answer (and the log), never the binding's message. */
const unavailable = (e: unknown) =>
  ApiError.unavailable('STORE_UNAVAILABLE', 'The object store cannot be read right now', `R2 error ${/\((\d{5})\)/.exec(describe(e))?.[1] ?? 'unknown'}`);
