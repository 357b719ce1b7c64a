// @ts-check
import tseslint from 'typescript-eslint';

/** Runtime-specific modules: only runtime entries and backend adapters may import them (DESIGN 1). */
const runtimeSpecific = {
  patterns: [
    { group: ['node:*'], message: 'src/ outside src/runtime/ is runtime-free: take a port instead.' },
    { group: ['@aws-sdk/*', 'cloudflare:*', '@electric-sql/*', '@hono/node-server', '@hono/node-server/*'], message: 'runtime-specific: build it in src/runtime/ and pass it as a port.' },
    { group: ['onnxruntime-web', 'onnxruntime-web/*', 'onnxruntime-node'], message: 'the runtime entry loads onnxruntime and passes it in (Workers need the precompiled WASM).' },
    { group: ['**/fs-*', '**/s3-*', '**/r2-*', '**/pglite-*', '**/runtime/*'], message: 'backend adapters are wired by runtime entries only.' },
  ],
  paths: ['fs', 'fs/promises', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'stream', 'url', 'buffer', 'process', 'util'].map((name) => ({
    name,
    message: 'Node built-in: src/ outside src/runtime/ is runtime-free.',
  })),
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'packages/*/dist/**', 'data/**', 'coverage/**', '.wrangler/**', 'infra/cdk.out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/runtime/**', 'src/**/fs-*.ts', 'src/**/s3-*.ts', 'src/**/r2-*.ts', 'src/**/pglite-*.ts'],
    rules: { 'no-restricted-imports': ['error', runtimeSpecific] },
  },
  {
    files: ['packages/protocol/src/**/*.ts', 'packages/client/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: runtimeSpecific.patterns.slice(0, 3), paths: runtimeSpecific.paths }] },
  },
);
