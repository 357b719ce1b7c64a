/**
 * What every ObjectStore implementation promises (src/storage/object-store.ts), as one suite
 * each backend runs: its test file only says how to build an empty store, then adds what is
 * truly its own (fs atomic writes, S3 outages, R2 binding errors).
 *
 * The cases are grouped by capability, one function each; a new capability of the port (say
 * conditional writes) is one more group and one more line in `objectStoreContract`.
 */
import { describe, expect, it } from 'vitest';
import { NOT_MODIFIED, type ObjectStore, type StoredObject } from '../../src/storage/object-store.js';

export interface StoreOptions {
  /** Keys per list page, for backends that page (S3, R2): small values make the cases cross pages. */
  readonly listPageSize?: number;
}

/** Builds a store that holds nothing yet and that no other case writes to. */
export type MakeStore = (options?: StoreOptions) => Promise<ObjectStore>;

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The object a read answered, failing the case on null or NOT_MODIFIED. */
function found(got: StoredObject | typeof NOT_MODIFIED | null): StoredObject {
  if (got === null || got === NOT_MODIFIED) throw new Error(`expected an object, got ${String(got)}`);
  return got;
}

export function objectStoreContract(name: string, makeStore: MakeStore): void {
  describe(`${name} (ObjectStore contract)`, () => {
    readsAndWrites(makeStore);
    conditionalReads(makeStore);
    listing(makeStore);
    deleting(makeStore);
  });
}

function readsAndWrites(makeStore: MakeStore): void {
  it('reads back what it wrote, with an etag, and answers null for a missing key', async () => {
    const store = await makeStore();
    await store.put('services/a/service.json', bytes('{"x":1}'));
    const got = found(await store.get('services/a/service.json'));
    expect(text(got.body)).toBe('{"x":1}');
    expect(got.etag).toMatch(/\w/);
    expect(await store.get('services/b/service.json')).toBeNull();
  });

  it('takes a Node Buffer as a body', async () => {
    const store = await makeStore();
    await store.put('buffer.json', Buffer.from('{"x":1}'));
    expect(text(found(await store.get('buffer.json')).body)).toBe('{"x":1}');
  });

  it('replaces an object on a second write', async () => {
    const store = await makeStore();
    await store.put('k', bytes('one'));
    await store.put('k', bytes('three'));
    expect(text(found(await store.get('k')).body)).toBe('three');
  });

  it('stores an empty object', async () => {
    const store = await makeStore();
    await store.put('empty', new Uint8Array());
    expect(found(await store.get('empty')).body.byteLength).toBe(0);
  });

  it('streams a binary object back to the exact bytes', async () => {
    const store = await makeStore();
    const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 256);
    await store.put('models/m.onnx', blob);
    const got = found(await store.get('models/m.onnx'));
    expect(got.body.byteLength).toBe(blob.byteLength);
    expect(Buffer.compare(Buffer.from(got.body), Buffer.from(blob))).toBe(0);
  });

  it('keeps keys with spaces, URL metacharacters and non-ASCII letters as they are', async () => {
    const store = await makeStore();
    const keys = ['odd/a b.json', 'odd/a+b=c&d.json', 'odd/50%25 off?#x.json', 'odd/été/ü.json'];
    for (const k of keys) await store.put(k, bytes(k));
    for (const k of keys) expect(text(found(await store.get(k)).body)).toBe(k);
    expect(await store.list('odd/')).toEqual([...keys].sort());
  });
}

function conditionalReads(makeStore: MakeStore): void {
  it('answers NOT_MODIFIED to a conditional read with the current etag, and the new object after a change', async () => {
    const store = await makeStore();
    await store.put('service.json', bytes('v1'));
    const first = found(await store.get('service.json'));
    expect(await store.getIfChanged('service.json', first.etag)).toBe(NOT_MODIFIED);
    // A different length too: a local folder's etag is size and mtime, and two writes may share a tick.
    await store.put('service.json', bytes('v2, longer'));
    const changed = found(await store.getIfChanged('service.json', first.etag));
    expect(text(changed.body)).toBe('v2, longer');
    expect(changed.etag).not.toBe(first.etag);
    expect(await store.getIfChanged('gone.json', first.etag)).toBeNull();
  });
}

function listing(makeStore: MakeStore): void {
  it('lists the keys under a prefix in lexical order, nested ones included', async () => {
    const store = await makeStore();
    const keys = ['s/g/v2/manifest.json', 's/g/v1/models/a.onnx', 's/g/v1/models/b.onnx', 's/g/v1/manifest.json', 's/g/v3/manifest.json', 's/other.json'];
    for (const k of keys) await store.put(k, bytes(k));
    expect(await store.list('s/g/')).toEqual(['s/g/v1/manifest.json', 's/g/v1/models/a.onnx', 's/g/v1/models/b.onnx', 's/g/v2/manifest.json', 's/g/v3/manifest.json']);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('lists every key across pages, and a prefix that ends inside a name', async () => {
    const store = await makeStore({ listPageSize: 10 }); // 25 keys cross two continuation tokens
    const keys = Array.from({ length: 25 }, (_, i) => `p/k${String(i).padStart(4, '0')}`);
    await Promise.all([...keys, 'q/other'].map((k) => store.put(k, bytes('.'))));
    expect(await store.list('p/')).toEqual(keys);
    expect(await store.list('p/k000')).toEqual(keys.slice(0, 10));
  });
}

function deleting(makeStore: MakeStore): void {
  it('deletes, and deleting a missing key is not an error', async () => {
    const store = await makeStore();
    await store.put('p/k0000', bytes('x'));
    await store.put('p/k0001', bytes('x'));
    await store.delete('p/k0000');
    await store.delete('p/k0000');
    expect(await store.get('p/k0000')).toBeNull();
    expect(await store.list('p/')).toEqual(['p/k0001']);
  });
}
