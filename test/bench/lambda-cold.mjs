// One Lambda cold start, in this fresh process: Lambda's init phase (Node start + importing the
// BUILT bundle, dist/lambda/index.mjs, whose top-level await builds the handler and preloads
// APINODE_PRELOAD), then the first answer to a real API Gateway v2 event. Prints one JSON line.
// Usage (variables: the function's, APINODE_S3_* for the bucket): node lambda-cold.mjs BUNDLE BODY KEY
// WebAssembly compilations are counted by wrapping the global entry points ORT and QuickJS use.
const [bundle, body, key] = process.argv.slice(2);
let compiles = 0;
const compiled = [];
for (const name of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  WebAssembly[name] = function (source, ...rest) {
    // instantiate(module) reuses a compiled module: only bytes count as a compilation.
    if (!(source instanceof WebAssembly.Module)) {
      compiles++;
      compiled.push(`${name} ${source?.byteLength ?? source?.constructor?.name} B`);
    }
    return original.call(this, source, ...rest);
  };
}
const imported = performance.now();
const { handler } = await import(bundle);
const initMs = performance.now(); // since this process started (performance.timeOrigin)
const domainName = 'api123.execute-api.eu-west-1.amazonaws.com';
const path = '/public/api/v1/demo/penguin-species/predict';
const event = {
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: domainName, authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  requestContext: {
    accountId: '123456789012', apiId: 'api123', domainName, domainPrefix: 'api123',
    http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
    requestId: 'bench-1', routeKey: '$default', stage: '$default', time: new Date().toUTCString(), timeEpoch: Date.now(),
  },
  body,
  isBase64Encoded: false,
};
const t = performance.now();
const res = await handler(event, { awsRequestId: 'bench-1', getRemainingTimeInMillis: () => 30_000 });
const firstMs = performance.now() - t;
const t2 = performance.now();
const again = await handler({ ...event, requestContext: { ...event.requestContext, requestId: 'bench-2' } }, { awsRequestId: 'bench-2' });
const secondMs = performance.now() - t2;
const rss = process.memoryUsage().rss / 1024 / 1024;
console.log(JSON.stringify({ status: res.statusCode, status2: again.statusCode, nodeStartMs: imported, initMs, firstMs, secondMs, compiles, compiled, rssMiB: rss, body: res.statusCode === 200 ? undefined : res.body }));
process.exit(0);
