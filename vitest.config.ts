import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'infra/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // ORT-web's WASM is single-threaded per process; two forks use both cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
