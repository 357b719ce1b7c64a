export * from './common.js';
export * from './manifest.js';
export * from './service.js';
export * from './wire.js';
export * from './admin.js';
export * from './data-endpoints.js';
export * from './timeseries-endpoints.js';
export * from './code-endpoints.js';
