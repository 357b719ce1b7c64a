import { readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceConfig } from '@apinode/protocol';
import { hashKey } from '../services/key-hash.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';

const DEMO_DIR = fileURLToPath(new URL('../../examples/demo/generations/', import.meta.url));
const SERVICE = 'demo';
const KEY_LABEL = 'demo';

/**
 * Seeds the demo service into a store on embedded defaults: copies the committed demo
 * generations that are missing (manifest last, so a crash mid-copy leaves nothing visible)
 * and (re)sets the demo key, so the printed key always works.
 */
export async function seedDemo(store: ObjectStore, key = `demo-${randomBytes(12).toString('hex')}`): Promise<{ key: string; generations: string[] }> {
  const generations = (await readdir(DEMO_DIR)).sort();
  for (const gen of generations) {
    if (await store.get(layout.manifest(SERVICE, gen))) continue;
    const dir = join(DEMO_DIR, gen);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    const paths = files.map((f) => relative(dir, join(f.parentPath, f.name)).split(sep).join('/'));
    for (const path of paths.filter((p) => p !== 'manifest.json')) await store.put(layout.file(SERVICE, gen, path), await readFile(join(dir, path)));
    await store.put(layout.manifest(SERVICE, gen), await readFile(join(dir, 'manifest.json')));
  }
  const existing = await store.get(layout.service(SERVICE));
  const config: ServiceConfig = existing
    ? ServiceConfig.parse(JSON.parse(new TextDecoder().decode(existing.body)))
    : {
        serviceId: SERVICE,
        enabled: true,
        auth: { method: 'API_KEYS', keys: [] },
        mapping: { mode: 'SPLIT', entries: [{ generation: 'v1', proba: 0.7 }, { generation: 'v2', proba: 0.3 }] },
      };
  const hash = await hashKey(key);
  // Already seeded with this key (a fixed APINODE_DEMO_KEY on a kept data folder): nothing to write.
  if (existing && config.cors && config.auth.keys.some((k) => k.label === KEY_LABEL && k.hash === hash)) return { key, generations };
  // Pages served from this machine may call the demo from a browser (unless CORS was set since).
  config.cors ??= { allowedOrigins: ['http://localhost:*', 'http://127.0.0.1:*'] };
  const keys = config.auth.keys.filter((k) => k.label !== KEY_LABEL);
  keys.push({ label: KEY_LABEL, hash, createdAt: new Date().toISOString() });
  config.auth = { ...config.auth, keys };
  await store.put(layout.service(SERVICE), new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'));
  return { key, generations };
}
