/**
 * Seeds the demo service into the LOCAL R2 bucket that `wrangler dev` uses (.wrangler/state),
 * through wrangler's own platform proxy, so it lands exactly where the local Worker reads it.
 * Prints the demo key (APINODE_DEMO_KEY, or a fresh random one) and a curl to try.
 * For a real bucket, see docs/deploy-cloudflare.md.
 */
import { getPlatformProxy } from 'wrangler';
import type { R2Bucket } from '@cloudflare/workers-types';
import { seedDemo } from '../src/runtime/node-demo.js';
import { R2ObjectStore } from '../src/storage/r2-object-store.js';

const { env, dispose } = await getPlatformProxy<{ GENERATIONS: R2Bucket }>({ configPath: 'wrangler.toml', persist: true });
try {
  const demo = await seedDemo(new R2ObjectStore(env.GENERATIONS), process.env.APINODE_DEMO_KEY || undefined);
  const url = 'http://127.0.0.1:12000';
  console.log(
    [
      `demo service "demo" (generations ${demo.generations.join(', ')}) seeded into the local R2 bucket "apinode-generations"`,
      `API key: ${demo.key}`,
      'once wrangler dev is up, try:',
      `  curl -u ${demo.key}: ${url}/public/api/v1/demo/penguin-species/predict \\`,
      `    -d '{"features": {"island": "Biscoe", "beak_length_mm": 48.6, "beak_depth_mm": 16, "flipper_length_mm": 230, "body_mass_g": 5800, "sex": "MALE"}}'`,
    ].join('\n'),
  );
} finally {
  await dispose();
}
