import { buildWorker, startWorkerd } from '../workers/workerd.js';
import { ADMIN_ENV, adminConformanceSuite, bucketStaging } from './admin-suite.js';
import { corsConformanceSuite } from './cors-suite.js';
import { oipConformanceSuite } from './oip-suite.js';
import { demoDatabaseOverWebSocket, sqlConformanceSuite } from './sql-suite.js';
import { CONFORMANCE_ENV, DEMO_KEY, conformanceSuite } from './suite.js';

// The deployable bundle (wrangler deploy --dry-run), inside workerd (Miniflare), on a local R2 bucket.
conformanceSuite('Cloudflare Workers (workerd)', async () => {
  // The key is seeded into R2 (hashed in service.json); the Worker itself never sees it.
  const vars = Object.fromEntries(Object.entries(CONFORMANCE_ENV).filter(([k]) => k !== 'APINODE_DEMO_KEY'));
  const worker = await startWorkerd(await buildWorker(), { vars, demoKey: DEMO_KEY });
  return { fetch: worker.fetch, close: worker.close };
});

oipConformanceSuite('Cloudflare Workers (workerd)', async () => startWorkerd(await buildWorker(), { vars: Object.fromEntries(Object.entries(CONFORMANCE_ENV).filter(([k]) => k !== 'APINODE_DEMO_KEY')), demoKey: DEMO_KEY }));
corsConformanceSuite('Cloudflare Workers (workerd)', async () => startWorkerd(await buildWorker(), { vars: Object.fromEntries(Object.entries(CONFORMANCE_ENV).filter(([k]) => k !== 'APINODE_DEMO_KEY')), demoKey: DEMO_KEY }));

// The admin API (generation import validates in workerd's ORT too), on a Worker of its own.
adminConformanceSuite('Cloudflare Workers (workerd)', async () => {
  const vars = { ...Object.fromEntries(Object.entries(CONFORMANCE_ENV).filter(([k]) => k !== 'APINODE_DEMO_KEY')), ...ADMIN_ENV };
  const worker = await startWorkerd(await buildWorker(), { vars, demoKey: DEMO_KEY });
  // importFromArchive reads R2 keys under imports/: the suite puts archives there first, as CI would.
  return { fetch: worker.fetch, close: worker.close, ...bucketStaging(worker.store) };
});

// Postgres through the Neon driver inside workerd (one connection per call), over a local WebSocket bridge.
sqlConformanceSuite('Cloudflare Workers (workerd)', async () => {
  const database = await demoDatabaseOverWebSocket();
  const vars = { ...Object.fromEntries(Object.entries(CONFORMANCE_ENV).filter(([k]) => k !== 'APINODE_DEMO_KEY')), ...database.env };
  const worker = await startWorkerd(await buildWorker(), { vars, demoKey: DEMO_KEY });
  return {
    fetch: worker.fetch,
    close: async () => {
      await worker.close();
      await database.close();
    },
  };
});
