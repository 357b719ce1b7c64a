// Builds the Lambda bundle with the project's own esbuild (no Docker): dist/lambda/index.mjs
// (ESM, handler `index.handler`) plus onnxruntime-web's WASM glue and binary next to it, where
// ORT looks for them (relative to the running script). `npm run build`.
import { build } from 'esbuild';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOCS_ASSETS } from '../src/api/docs-page.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/lambda');
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
// The code sandbox's QuickJS glue is bundled; it reads its .wasm next to the running script too.
const quickjsWasm = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  // The threads' entries beside the handler (src/runtime/threads.ts starts ./code-worker.mjs, ./model-thread.mjs).
  entryPoints: { index: join(root, 'src/runtime/lambda.ts'), 'code-worker': join(root, 'src/runtime/code-worker.ts'), 'model-thread': join(root, 'src/runtime/model-thread.ts') },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Prefer packages' ESM builds; the banner gives the CommonJS ones that remain a `require`.
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire as __apinodeRequire } from 'node:module'; const require = __apinodeRequire(import.meta.url);" },
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
for (const f of ORT_FILES) await copyFile(join(ortDist, f), join(outdir, f));
await copyFile(quickjsWasm, join(outdir, 'emscripten-module.wasm'));
// /docs reads Swagger UI's files from swagger-ui/ beside the bundle (src/runtime/docs-assets.ts).
const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
await mkdir(join(outdir, 'swagger-ui'));
for (const f of DOCS_ASSETS) await copyFile(join(swaggerUi, f), join(outdir, 'swagger-ui', f));

const sizes = await Promise.all(['index.mjs', 'code-worker.mjs', 'model-thread.mjs', ...ORT_FILES, 'emscripten-module.wasm'].map(async (f) => `${f} ${((await stat(join(outdir, f))).size / 1024).toFixed(0)} KiB`));
console.log(`dist/lambda: ${sizes.join(', ')} (${Object.keys(result.metafile.inputs).length} inputs)`);
