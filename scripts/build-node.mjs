// Builds the Node entry (src/runtime/node.ts) into dist/node/node.mjs: one ESM file of our own
// code, every package left as an import of node_modules. `npm start` runs it, so the node starts
// as plain JavaScript (no TypeScript compiler at start-up); `npm run dev` keeps running the
// source through tsx. Two folders deep, like src/runtime/, so the paths the entry resolves from
// its own URL (the demo generations, vega-datasets) stay right. The workspaces that ship
// TypeScript (@apinode/protocol, @apinode/client) are bundled in.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Every package stays an import, but our own TypeScript workspaces, which Node cannot load. */
const packagesExternalButWorkspaces = {
  name: 'packages-external-but-workspaces',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@apinode/') ? undefined : { path: args.path, external: true }));
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
// Split chunks are named by hash: without this, every build's chunks would pile up beside the new ones.
await rm(`${root}/dist/node`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // With the threads' entries, which src/runtime/threads.ts starts as ./code-worker.mjs and ./model-thread.mjs.
  entryPoints: ['src/runtime/node.ts', 'src/runtime/code-worker.ts', 'src/runtime/model-thread.ts'],
  // Split: what the entry imports lazily (PGlite, the S3 SDK, …) stays in its own chunk, with its
  // packages' imports, so the node does not load them at start (issue 16). Chunks sit beside
  // the entry, so paths resolved from import.meta.url stay right.
  outdir: 'dist/node',
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  plugins: [packagesExternalButWorkspaces],
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
}).catch(() => process.exit(1)); // esbuild has printed why

