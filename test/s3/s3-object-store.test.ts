import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { NOT_MODIFIED } from '../../src/storage/object-store.js';
import { S3ObjectStore, s3OptionsFromEnv } from '../../src/storage/s3-object-store.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { LocalS3 } from './s3-server.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('S3ObjectStore against a local S3 server', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await LocalS3.start();
  });
  afterAll(async () => s3?.destroy());

  it('reads back what it wrote, with an ETag, and answers null for a missing key', async () => {
    const store = s3.store('rw/');
    await store.put('a/b.json', bytes('{"x":1}'));
    const got = await store.get('a/b.json');
    expect(text(got!.body)).toBe('{"x":1}');
    expect(got!.etag).toMatch(/^".+"$/);
    expect(await store.get('a/missing.json')).toBeNull();
  });

  it('answers NOT_MODIFIED to a conditional read with the current ETag, and the new object after a change', async () => {
    const store = s3.store('cond/');
    await store.put('service.json', bytes('v1'));
    const first = (await store.get('service.json'))!;
    expect(await store.getIfChanged('service.json', first.etag)).toBe(NOT_MODIFIED);
    await store.put('service.json', bytes('v2, longer'));
    const changed = await store.getIfChanged('service.json', first.etag);
    expect(changed).not.toBe(NOT_MODIFIED);
    expect(text((changed as { body: Uint8Array }).body)).toBe('v2, longer');
    expect(await store.getIfChanged('gone.json', first.etag)).toBeNull();
  });

  it('streams a binary object to the exact bytes', async () => {
    const store = s3.store('bin/');
    const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 256);
    await store.put('models/m.onnx', blob);
    const got = await store.get('models/m.onnx');
    expect(got!.body.byteLength).toBe(blob.byteLength);
    expect(Buffer.compare(Buffer.from(got!.body), Buffer.from(blob))).toBe(0);
  });

  it('lists keys under a prefix in lexical order across pages, without the store prefix, and deletes', async () => {
    const store = s3.store('list/', 10); // 10 keys a page: 25 keys cross two continuation tokens
    const keys = Array.from({ length: 25 }, (_, i) => `p/k${String(i).padStart(4, '0')}`);
    await Promise.all([...keys, 'q/other'].map((k) => store.put(k, bytes('.'))));
    const listed = await store.list('p/');
    expect(listed).toEqual(keys);
    await store.delete('p/k0000');
    expect(await store.get('p/k0000')).toBeNull();
    expect((await store.list('p/k000')).length).toBe(9);
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
