// s3rver 3.7 ignores If-Match and If-None-Match on PutObject (it writes whatever it is sent), and
// writes an object in place, so a read racing a write can see half of it. AWS S3 (since 2024),
// R2's S3 API and MinIO honour both headers atomically; this middleware makes s3rver do the
// same, so the S3 backend is tested against a real S3-protocol server rather than a mock:
//
// - every request on one object key (GET, HEAD, PUT, DELETE) runs alone, in arrival order; a
//   GET's body is read in full before the next request on that key runs;
// - a PUT with If-None-Match: * on an existing key, or If-Match with another etag, is answered
//   412 PreconditionFailed; If-Match on a missing key 404 NoSuchKey, as AWS answers them.
//
// One s3rver process serves the tests, so a queue per key in this process is a lock per key.
import S3Error from 's3rver/lib/models/error.js';

const queues = new Map();

/** Runs `step` after every earlier step on the same key. */
async function alone(key, step) {
  const before = queues.get(key) ?? Promise.resolve();
  let done;
  const released = new Promise((r) => (done = r));
  const mine = before.then(() => released);
  queues.set(key, mine);
  await before;
  try {
    return await step();
  } finally {
    done();
    if (queues.get(key) === mine) queues.delete(key);
  }
}

/** The object a path-style request names, or null for service and bucket requests (and subresources). */
function objectOf(ctx) {
  const [, bucket, ...rest] = ctx.path.split('/');
  if (!bucket || rest.length === 0 || rest.join('') === '') return null;
  if (['acl', 'tagging', 'uploads', 'uploadId'].some((q) => q in ctx.query)) return null;
  return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rest.join('/')) };
}

async function currentEtag(store, { bucket, key }) {
  try {
    return (await store.getMetadata(bucket, key)).etag;
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

export function conditionalWrites(server) {
  return async (ctx, next) => {
    const object = objectOf(ctx);
    if (!object) return next();
    return alone(`${object.bucket}/${object.key}`, async () => {
      if (ctx.method === 'PUT' && !ctx.headers['x-amz-copy-source']) {
        const ifMatch = ctx.headers['if-match'];
        const ifNoneMatch = ctx.headers['if-none-match'];
        if (ifMatch !== undefined || ifNoneMatch !== undefined) {
          const etag = await currentEtag(server.store, object);
          if (ifMatch !== undefined && etag === null) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: object.key });
          if ((ifMatch !== undefined && ifMatch !== etag) || (ifNoneMatch === '*' && etag !== null)) {
            throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: ifMatch !== undefined ? 'If-Match' : 'If-None-Match' });
          }
        }
      }
      await next();
      // Read the body while the key is still ours: a write after this one cannot tear it.
      if (ctx.body && typeof ctx.body.pipe === 'function') {
        const chunks = [];
        for await (const chunk of ctx.body) chunks.push(chunk);
        ctx.body = Buffer.concat(chunks);
      }
    });
  };
}
