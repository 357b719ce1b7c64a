import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { R2Bucket } from '@cloudflare/workers-types';
import { Miniflare } from 'miniflare';
import { isApiError } from '../../src/errors.js';
import { NOT_MODIFIED } from '../../src/storage/object-store.js';
import { R2ObjectStore } from '../../src/storage/r2-object-store.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

// The store against workerd's local R2 implementation, through Miniflare's bucket proxy.
describe('R2ObjectStore', () => {
  let mf: Miniflare;
  let bucket: R2Bucket;
  beforeAll(async () => {
    mf = new Miniflare({ modules: true, script: 'export default { fetch: () => new Response(null, { status: 404 }) }', r2Buckets: ['B'], compatibilityDate: '2026-04-01' });
    bucket = (await mf.getR2Bucket('B')) as unknown as R2Bucket;
  });
  afterAll(() => mf?.dispose());

  it('reads back what it wrote (Node Buffers included), and null for a missing key', async () => {
    const store = new R2ObjectStore(bucket);
    await store.put('services/a/service.json', Buffer.from('{"x":1}'));
    const got = (await store.get('services/a/service.json'))!;
    expect(text(got.body)).toBe('{"x":1}');
    expect(got.etag).toMatch(/\w/);
    expect(await store.get('services/b/service.json')).toBeNull();
  });

  it('answers NOT_MODIFIED for an unchanged etag and the new object after a write', async () => {
    const store = new R2ObjectStore(bucket);
    await store.put('k', bytes('one'));
    const first = (await store.get('k'))!;
    expect(await store.getIfChanged('k', first.etag)).toBe(NOT_MODIFIED);
    await store.put('k', bytes('two'));
    const next = await store.getIfChanged('k', first.etag);
    expect(next).not.toBe(NOT_MODIFIED);
    expect(text((next as { body: Uint8Array }).body)).toBe('two');
    expect(await store.getIfChanged('missing', first.etag)).toBeNull();
  });

  it('lists every key under a prefix in order, following the cursor across pages', async () => {
    const store = new R2ObjectStore(bucket, { listPageSize: 2 });
    const keys = ['s/g/v2/manifest.json', 's/g/v1/models/a.onnx', 's/g/v1/models/b.onnx', 's/g/v1/manifest.json', 's/g/v3/manifest.json', 's/other.json'];
    for (const k of keys) await store.put(k, bytes(k));
    expect(await store.list('s/g/')).toEqual(['s/g/v1/manifest.json', 's/g/v1/models/a.onnx', 's/g/v1/models/b.onnx', 's/g/v2/manifest.json', 's/g/v3/manifest.json']);
    expect(await store.list('nothing/')).toEqual([]);
  });

  it('deletes, and deleting a missing key is not an error', async () => {
    const store = new R2ObjectStore(bucket);
    await store.put('gone', bytes('x'));
    await store.delete('gone');
    await store.delete('gone');
    expect(await store.get('gone')).toBeNull();
  });

  it('turns binding errors into 503 STORE_UNAVAILABLE without the raw message in the answer', async () => {
    const fail = () => Promise.reject(new Error('R2 internal: network connection lost (10001)'));
    const broken = new R2ObjectStore({ get: fail, put: fail, list: fail, delete: fail } as unknown as R2Bucket);
    for (const op of [() => broken.get('k'), () => broken.getIfChanged('k', 'e'), () => broken.put('k', bytes('x')), () => broken.list('p/'), () => broken.delete('k')]) {
      const err = await op().then(() => null, (e: unknown) => e);
      expect(isApiError(err) && err.status === 503 && err.errorType === 'STORE_UNAVAILABLE').toBe(true);
      expect(isApiError(err) && err.detailedMessage).toBe('R2 error 10001');
      expect(JSON.stringify(isApiError(err) && err.toBody())).not.toMatch(/network/);
    }
  });
});
