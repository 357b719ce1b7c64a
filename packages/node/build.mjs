// Builds @apinode/node from the node's source, the repository's src/ (DESIGN 1 keeps it there):
// dist/<path>.js for each entry of the exports map (src/<path>.ts; shared code in dist/chunks/)
// and dist/<path>.d.ts beside it. The workspace packages that ship TypeScript source
// (@apinode/protocol, @apinode/client) are bundled in; every other import stays an import, and
// must be one of this package's dependencies. `node build.mjs --no-types` rebuilds the modules
// only, leaving the declarations as they are (test/e2e/cli.test.ts runs it before the CLI).
import { build } from 'esbuild';
import { readFile, readdir, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const path = (p) => fileURLToPath(new URL(p, import.meta.url));
const pkg = JSON.parse(await readFile(path('package.json'), 'utf8'));
const root = JSON.parse(await readFile(path('../../package.json'), 'utf8'));
const src = path('../../src/');
const outdir = path('dist/');
const entryPoints = Object.values(pkg.exports).map((target) => src + target.replace(/^\.\/dist\/(.*)\.js$/, '$1.ts'));
const dependencies = Object.keys(pkg.dependencies ?? {});
const bundled = Object.keys(pkg.devDependencies ?? {}).filter((name) => name.startsWith('@apinode/'));
const types = !process.argv.includes('--no-types');

const result = await build({
  absWorkingDir: path('.'),
  entryPoints,
  outbase: src,
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[hash]',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [externalDependencies(dependencies, bundled)],
}).catch(() => process.exit(1)); // esbuild has printed why: a stack trace would add nothing
const written = new Set(Object.keys(result.metafile.outputs).map((f) => path(f)));
// Declarations are emitted even when src/ has type errors: `npm run typecheck` reports those.
if (types) {
  const config = ts.getParsedCommandLineOfConfigFile(path('../../tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  const options = { ...config.options, noEmit: false, declaration: true, emitDeclarationOnly: true, rootDir: src, outDir: outdir, listEmittedFiles: true };
  for (const f of ts.createProgram(entryPoints, options).emit().emittedFiles ?? []) written.add(f);
}
// Files are replaced in place, and only then is what this build did not write removed (old
// chunks, modules gone from src/): dist/ is never empty for a CLI or a type-check running meanwhile.
for (const f of await readdir(outdir, { recursive: true, withFileTypes: true })) {
  const file = join(f.parentPath, f.name);
  if (f.isFile() && !written.has(file) && (types || !file.endsWith('.d.ts'))) await rm(file);
}
console.log(`@apinode/node: ${entryPoints.length} entries from src/, ${Object.keys(result.metafile.inputs).length} inputs`);

/**
 * Bundles the named workspace packages and the relative imports; leaves every other package
 * external, and fails on one this package does not depend on (it would be missing once installed).
 */
function externalDependencies(dependencies, bundled) {
  const packageName = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  return {
    name: 'external-dependencies',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const name = packageName(args.path);
        if (bundled.includes(name)) return undefined;
        if (args.path.startsWith('node:') || builtinModules.includes(name) || dependencies.includes(name)) return { path: args.path, external: true };
        const range = root.dependencies?.[name] ?? '<version>';
        return { errors: [{ text: `"${name}" is not a dependency of ${pkg.name}: add "${name}": "${range}" to packages/node/package.json` }] };
      });
    },
  };
}
