import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start } from '../../src/runtime/node.js';
import { CONFORMANCE_ENV, conformanceSuite } from './suite.js';

// The real Node entry, on a real loopback socket, seeding the demo into a fresh folder.
conformanceSuite('Node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'apinode-conformance-'));
  const node = await start({ ...CONFORMANCE_ENV, PORT: '0', APINODE_DATA_DIR: dir });
  return { fetch: (path, init) => fetch(node.url + path, init), close: () => node.close() };
});
