import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { R2Bucket } from '@cloudflare/workers-types';
import { Miniflare } from 'miniflare';
import { isApiError } from '../../src/errors.js';
import { R2ObjectStore } from '../../src/storage/r2-object-store.js';
import { bytes, objectStoreContract } from '../support/object-store-contract.js';

// The store against workerd's local R2 implementation, through Miniflare's bucket proxy.
let mf: Miniflare;
let bucket: R2Bucket;
beforeAll(async () => {
  mf = new Miniflare({ modules: true, script: 'export default { fetch: () => new Response(null, { status: 404 }) }', r2Buckets: ['B'], compatibilityDate: '2026-04-01' });
  bucket = (await mf.getR2Bucket('B')) as unknown as R2Bucket;
});
afterAll(() => mf?.dispose());

/** One bucket for all cases (a Miniflare per case is slow): each case starts by emptying it. */
async function emptyBucket(): Promise<void> {
  for (let page = await bucket.list(); page.objects.length; page = await bucket.list()) await bucket.delete(page.objects.map((o) => o.key));
}

objectStoreContract('R2ObjectStore', async (options) => {
  await emptyBucket();
  return new R2ObjectStore(bucket, options);
});

describe('R2ObjectStore', () => {
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
