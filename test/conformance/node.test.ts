import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../../src/runtime/node.js';
import { ADMIN_ENV, adminConformanceSuite } from './admin-suite.js';
import { sqlConformanceSuite } from './sql-suite.js';
import { CONFORMANCE_ENV, conformanceSuite, type Target } from './suite.js';

// The real Node entry, on a real loopback socket, seeding the demo into a fresh folder.
async function nodeTarget(env: Record<string, string>): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-conformance-'));
  const node = await start({ ...CONFORMANCE_ENV, ...env, PORT: '0', APINODE_DATA_DIR: dir });
  return { fetch: (path, init) => fetch(node.url + path, init), close: () => node.close() };
}

conformanceSuite('Node', () => nodeTarget({}));
adminConformanceSuite('Node', () => nodeTarget(ADMIN_ENV));
// The embedded default: PGlite in the node's process, seeded with the demo's cars.
sqlConformanceSuite('Node (PGlite)', () => nodeTarget({}));
