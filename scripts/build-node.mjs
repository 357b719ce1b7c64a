// Builds the Node entry (src/runtime/node.ts) into dist/node/node.mjs: one ESM file of our own
// code, every package left as an import of node_modules. `npm start` runs it, so the node starts
// as plain JavaScript (no TypeScript compiler at start-up); `npm run dev` keeps running the
// source through tsx. Two folders deep, like src/runtime/, so the paths the entry resolves from
// its own URL (the demo generations, vega-datasets) stay right. The workspaces that ship
// TypeScript (@apinode/protocol, @apinode/client) are bundled in.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Every package stays an import, but our own TypeScript workspaces, which Node cannot load. */
const packagesExternalButWorkspaces = {
  name: 'packages-external-but-workspaces',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@apinode/') ? undefined : { path: args.path, external: true }));
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['src/runtime/node.ts'],
  outfile: 'dist/node/node.mjs',
  bundle: true,
  plugins: [packagesExternalButWorkspaces],
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
}).catch(() => process.exit(1)); // esbuild has printed why

