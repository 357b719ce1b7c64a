import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker } from './workerd.js';

const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/**
 * The /docs page on Workers: Swagger UI's files are static assets (wrangler.toml [assets], run
 * on the Worker first), read through the ASSETS binding, and nothing else of the folder is served.
 */
describe('the docs page on Workers, its files as static assets', () => {
  let mf: Miniflare;
  beforeAll(async () => {
    const bundle = await buildWorker();
    const wasm = [bundle.wasmName, ...bundle.otherWasm];
    mf = new Miniflare({
      modulesRoot: bundle.dir,
      modules: [
        { type: 'ESModule', path: join(bundle.dir, bundle.script), contents: await readFile(join(bundle.dir, bundle.script), 'utf8') },
        ...(await Promise.all(wasm.map(async (f) => ({ type: 'CompiledWasm' as const, path: join(bundle.dir, f), contents: await readFile(join(bundle.dir, f)) })))),
      ],
      compatibilityDate: '2026-04-01',
      r2Buckets: { GENERATIONS: 'apinode-generations' },
      // As wrangler.toml says: the Worker answers every path, the assets only through the binding.
      assets: { directory: SWAGGER_UI, binding: 'ASSETS', routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true } },
    });
  });
  afterAll(() => mf?.dispose());

  const get = (path: string) => mf.dispatchFetch(`http://localhost${path}`) as unknown as Promise<Response>;

  it('serves the page and Swagger UI from the assets, byte for byte', async () => {
    expect((await get('/docs')).status).toBe(200);
    const bundle = await get('/docs/assets/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.arrayBuffer()).byteLength).toBe((await readFile(join(SWAGGER_UI, 'swagger-ui-bundle.js'))).byteLength);
  });

  it('serves no other file of the assets folder', async () => {
    for (const path of ['/package.json', '/index.html', '/docs/assets/package.json', '/docs/assets/swagger-initializer.js']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});
