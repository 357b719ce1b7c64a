// Builds the CLI into dist/main.js (bin/apinode-admin.mjs runs it), so that it runs on plain
// Node wherever it is installed. The workspace packages that ship TypeScript source
// (@apinode/client, @apinode/protocol) are bundled in; every other import stays an import
// (the node itself is @apinode/node) and must be one of this package's dependencies.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const path = (p) => fileURLToPath(new URL(p, import.meta.url));
const pkg = JSON.parse(await readFile(path('package.json'), 'utf8'));
const dependencies = Object.keys(pkg.dependencies ?? {});
const bundled = Object.keys(pkg.devDependencies ?? {}).filter((name) => name.startsWith('@apinode/'));

await build({
  entryPoints: [path('src/main.ts')],
  outfile: path('dist/main.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      // A package this one does not depend on would be missing once the CLI is installed.
      name: 'external-dependencies',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.kind === 'entry-point') return undefined;
          const name = args.path.split('/').slice(0, args.path.startsWith('@') ? 2 : 1).join('/');
          if (bundled.includes(name)) return undefined;
          if (args.path.startsWith('node:') || builtinModules.includes(name) || dependencies.includes(name)) return { path: args.path, external: true };
          return { errors: [{ text: `"${name}" is not a dependency of ${pkg.name}: add it to its package.json` }] };
        });
      },
    },
  ],
}).catch(() => process.exit(1)); // esbuild has printed why: a stack trace would add nothing
