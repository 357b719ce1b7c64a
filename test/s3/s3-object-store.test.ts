import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { PreconditionFailed } from '../../src/storage/object-store.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { S3ObjectStore, s3OptionsFromEnv } from '../../src/storage/s3-object-store.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { bytes, objectStoreContract } from '../support/object-store-contract.js';
import { LocalS3 } from './s3-server.js';

let s3: LocalS3;
beforeAll(async () => {
  s3 = await LocalS3.start();
});
afterAll(async () => s3?.destroy());

// Every case gets its own key prefix in the one bucket: isolated, and since list() must
// answer keys without the store's prefix, every listing case checks that it strips it.
let stores = 0;
objectStoreContract('S3ObjectStore against a local S3 server', async (options) => s3.store(`contract-${++stores}/`, options?.listPageSize));

describe('S3ObjectStore against a local S3 server', () => {
  it('answers ETags in their quoted HTTP form, as If-None-Match wants them back', async () => {
    const store = s3.store('etag/');
    await store.put('a/b.json', bytes('{"x":1}'));
    expect((await store.get('a/b.json'))!.etag).toMatch(/^".+"$/);
  });

  // s3rver ignores these headers: s3rver-conditional.mjs makes it honour them as S3 does. This
  // case shows the store sends S3's own headers, so the contract's conditional cases test the server.
  it('sends conditions as S3\'s If-Match and If-None-Match headers, and reads 412 as PreconditionFailed', async () => {
    const store = s3.store('headers/');
    const seen: { ifMatch?: string; ifNoneMatch?: string }[] = [];
    store.client.middlewareStack.add(
      (next) => async (args) => {
        const h = (args.request as { headers: Record<string, string> }).headers;
        seen.push({ ifMatch: h['if-match'], ifNoneMatch: h['if-none-match'] });
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const etag = await store.put('k', bytes('a'), { ifNoneMatch: '*' });
    await store.put('k', bytes('b'), { ifMatch: etag });
    await expect(store.put('k', bytes('c'), { ifMatch: etag })).rejects.toBeInstanceOf(PreconditionFailed);
    expect(seen).toEqual([{ ifNoneMatch: '*' }, { ifMatch: etag }, { ifMatch: etag }]);
  });

  it('serves the demo through the app, and keeps serving a cached service while the server is down', async () => {
    const store = s3.store('demo/');
    await seedDemo(store, 'k');
    let now = 0;
    const t = testApp(store, {}, { now: () => now });
    const features = demoRecords(1)['car-mpg']![0]!;
    const predict = () =>
      t.app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ features, dispatch: { forcedGeneration: 'v1' } }) });
    expect((await predict()).status).toBe(200);

    await s3.stop();
    try {
      now += 3_600_000; // service.json is long stale: revalidation fails, the last good copy serves
      expect((await predict()).status).toBe(200);
      const cold = await t.app.request('/public/api/v1/demo/car-mpg/predict', {
        method: 'POST',
        headers: { Authorization: 'Bearer k' },
        body: JSON.stringify({ features, dispatch: { forcedGeneration: 'v2' } }),
      });
      expect(cold.status).toBe(503);
      const body = (await cold.json()) as Record<string, string>;
      expect(body.errorType).toBe('STORE_UNAVAILABLE');
      expect(body.detailedMessage).not.toMatch(/127\.0\.0\.1|apinode-test/);

      const err = await store.get('services/demo/service.json').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(503);
      await expect(store.list('services/')).rejects.toMatchObject({ status: 503, errorType: 'STORE_UNAVAILABLE' });
    } finally {
      await s3.start();
    }
    expect((await store.get('services/demo/service.json'))?.body.byteLength).toBeGreaterThan(0);
  });
});

describe('S3 options from the environment', () => {
  it('needs a bucket, and reads prefix, endpoint, path style and region', () => {
    expect(s3OptionsFromEnv({})).toBeNull();
    expect(
      s3OptionsFromEnv({ APINODE_S3_BUCKET: 'b', APINODE_S3_PREFIX: 'p', APINODE_S3_ENDPOINT: 'http://minio:9000', APINODE_S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'eu-west-1' }),
    ).toEqual({ bucket: 'b', prefix: 'p', endpoint: 'http://minio:9000', forcePathStyle: true, region: 'eu-west-1' });
  });

  it('rejects a path-style flag that is not a boolean, naming the variable', () => {
    expect(() => s3OptionsFromEnv({ APINODE_S3_BUCKET: 'b', APINODE_S3_FORCE_PATH_STYLE: 'yes please' })).toThrow(/APINODE_S3_FORCE_PATH_STYLE/);
  });

  it('refuses an empty bucket name', () => {
    expect(() => new S3ObjectStore({ bucket: '' })).toThrow(/bucket/);
  });
});
