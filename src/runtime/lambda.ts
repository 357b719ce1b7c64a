import { createLambdaHandler, type LambdaHandler } from './lambda-handler.js';

// The deployed entry (`index.handler` in dist/lambda): the node is built in Lambda's init phase,
// with top-level await, so preloading is done before the first request. Importing this module
// therefore needs the function's variables (at least APINODE_S3_BUCKET) set first; the factory
// in lambda-handler.ts has no such side effect.
export const handler: LambdaHandler = await createLambdaHandler(process.env);
