export { APINodeClient, type ClientOptions, type DispatchOptions, type PredictOptions } from './user.js';
export { APINodeAdminClient } from './admin.js';
export { ApiNodeError } from './errors.js';
export type { Fetch, HttpOptions } from './http.js';
