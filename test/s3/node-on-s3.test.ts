import { afterAll, expect, it } from 'vitest';
import { start, type NodeServer } from '../../src/runtime/node.js';
import { LocalS3 } from './s3-server.js';

let s3: LocalS3 | undefined;
let node: NodeServer | undefined;
afterAll(async () => {
  await node?.close();
  await s3?.destroy();
});

it('serves from an S3-compatible bucket when APINODE_S3_BUCKET is set (the Node entry)', async () => {
  s3 = await LocalS3.start();
  Object.assign(process.env, s3.env); // the SDK reads credentials from the process environment
  node = await start({ ...s3.env, PORT: '0', APINODE_DEMO_KEY: 'node-s3-key', APINODE_QUERY_LOG: 'off', APINODE_DATA_DIR: '/nonexistent' });
  const res = await fetch(`${node.url}/public/api/v1/demo/car-mpg/predict`, {
    method: 'POST',
    headers: { Authorization: 'Bearer node-s3-key' },
    body: JSON.stringify({ features: { weight_lbs: 3000 } }),
  });
  expect(res.status).toBe(200);
  expect(await s3.store().list('services/demo/generations/v1/')).toContain('services/demo/generations/v1/manifest.json');
});
