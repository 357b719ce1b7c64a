import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../../src/runtime/node.js';
import { ADMIN_ENV, adminConformanceSuite, type AdminTarget } from './admin-suite.js';
import { corsConformanceSuite } from './cors-suite.js';
import { oipConformanceSuite } from './oip-suite.js';
import { sqlConformanceSuite } from './sql-suite.js';
import { CONFORMANCE_ENV, conformanceSuite, type Target } from './suite.js';

// The real Node entry, on a real loopback socket, seeding the demo into a fresh folder.
async function nodeTarget(env: Record<string, string>): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-conformance-'));
  const node = await start({ ...CONFORMANCE_ENV, ...env, PORT: '0', APINODE_DATA_DIR: dir });
  return { fetch: (path, init) => fetch(node.url + path, init), close: () => node.close() };
}

/** The admin target imports from a folder (APINODE_IMPORT_DIR); beside it, one it must not read. */
async function adminNodeTarget(): Promise<AdminTarget> {
  const base = await mkdtemp(join(tmpdir(), 'apinode-imports-'));
  const [imports, outside] = [join(base, 'imports'), join(base, 'outside')];
  await Promise.all([mkdir(imports), mkdir(outside)]);
  const target = await nodeTarget({ ...ADMIN_ENV, APINODE_IMPORT_DIR: imports });
  return {
    ...target,
    async stageImport(name, archive) {
      await writeFile(join(imports, name), archive);
      return join(imports, name);
    },
    async forbiddenImports(archive) {
      await writeFile(join(outside, 'a.tar.gz'), archive);
      await symlink(join(outside, 'a.tar.gz'), join(imports, 'link.tar.gz'));
      return [join(outside, 'a.tar.gz'), `${imports}/../outside/a.tar.gz`, '../outside/a.tar.gz', join(imports, 'link.tar.gz')];
    },
  };
}

conformanceSuite('Node', () => nodeTarget({}));
corsConformanceSuite('Node', () => nodeTarget({}));
oipConformanceSuite('Node', () => nodeTarget({}));
adminConformanceSuite('Node', adminNodeTarget);
// The embedded default: PGlite in the node's process, seeded with the demo's cars.
sqlConformanceSuite('Node (PGlite)', () => nodeTarget({}));
