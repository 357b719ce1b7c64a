/**
 * What every ObjectStore implementation promises (src/storage/object-store.ts), as one suite
 * each backend runs: its test file only says how to build an empty store, then adds what is
 * truly its own (fs atomic writes, S3 outages, R2 binding errors).
 *
 * The cases are grouped by capability, one function each; a new capability of the port is one
 * more group and one more line in `objectStoreContract`.
 */
import { describe, expect, it } from 'vitest';
import { NOT_MODIFIED, PreconditionFailed, type ObjectStore, type StoredObject } from '../../src/storage/object-store.js';
import { updateJson } from '../../src/storage/update.js';

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
    conditionalWrites(makeStore);
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

/** Settles every promise; answers how many were fulfilled and how many failed with PreconditionFailed (anything else fails the case). */
async function outcomes(writes: Promise<unknown>[]): Promise<{ won: number; refused: number }> {
  const settled = await Promise.allSettled(writes);
  for (const s of settled) if (s.status === 'rejected' && !(s.reason instanceof PreconditionFailed)) throw s.reason;
  return { won: settled.filter((s) => s.status === 'fulfilled').length, refused: settled.filter((s) => s.status === 'rejected').length };
}

function conditionalWrites(makeStore: MakeStore): void {
  it('answers the new etag from a write, the one a read then answers', async () => {
    const store = await makeStore();
    const etag = await store.put('a.json', bytes('{"a":1}'));
    expect(etag).toMatch(/\w/);
    expect(found(await store.get('a.json')).etag).toBe(etag);
  });

  it('creates with ifNoneMatch "*" only while the key is absent, and again after a delete', async () => {
    const store = await makeStore();
    await store.put('lock', bytes('first'), { ifNoneMatch: '*' });
    await expect(store.put('lock', bytes('second'), { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(text(found(await store.get('lock')).body)).toBe('first');
    await store.delete('lock');
    await store.put('lock', bytes('third'), { ifNoneMatch: '*' });
    expect(text(found(await store.get('lock')).body)).toBe('third');
  });

  it('replaces with ifMatch only while the object has that etag, and never a missing one', async () => {
    const store = await makeStore();
    const first = await store.put('service.json', bytes('v1'));
    const second = await store.put('service.json', bytes('v2'), { ifMatch: first });
    await expect(store.put('service.json', bytes('v3'), { ifMatch: first })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(text(found(await store.get('service.json')).body)).toBe('v2');
    await store.put('service.json', bytes('v4'), { ifMatch: second });
    await expect(store.put('absent.json', bytes('x'), { ifMatch: second })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(await store.get('absent.json')).toBeNull();
  });

  it('gives two bodies of one size, written back to back, different etags', async () => {
    const store = await makeStore();
    const a = await store.put('same-size', bytes('aaaa'));
    const b = await store.put('same-size', bytes('bbbb'));
    expect(b).not.toBe(a);
    await expect(store.put('same-size', bytes('cccc'), { ifMatch: a })).rejects.toBeInstanceOf(PreconditionFailed);
  });

  it('lets exactly one of 10 concurrent writers holding the same etag win, and keeps its body', async () => {
    const store = await makeStore();
    const etag = await store.put('race.json', bytes('start'));
    const { won, refused } = await outcomes(Array.from({ length: 10 }, (_, i) => store.put('race.json', bytes(`writer ${i}`), { ifMatch: etag })));
    expect({ won, refused }).toEqual({ won: 1, refused: 9 });
    expect(text(found(await store.get('race.json')).body)).toMatch(/^writer \d$/);
  });

  it('lets exactly one of 10 concurrent creators of a key win', async () => {
    const store = await makeStore();
    const { won, refused } = await outcomes(Array.from({ length: 10 }, (_, i) => store.put('claim.json', bytes(`claimant ${i}`), { ifNoneMatch: '*' })));
    expect({ won, refused }).toEqual({ won: 1, refused: 9 });
  });

  it('loses no increment of 12 concurrent read-modify-writes that retry on a failed precondition', async () => {
    const store = await makeStore();
    const parse = (o: StoredObject | null) => (o ? (JSON.parse(text(o.body)) as { n: number; by: number[] }) : { n: 0, by: [] });
    const fast = { attempts: 40, baseDelayMs: 5, maxDelayMs: 100 };
    await Promise.all(Array.from({ length: 12 }, (_, i) => updateJson(store, 'counter.json', parse, (c) => ({ n: c.n + 1, by: [...c.by, i] }), fast)));
    const final = parse(found(await store.get('counter.json')));
    expect(final.n).toBe(12);
    expect([...final.by].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
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
