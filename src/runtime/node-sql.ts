import { WebSocket } from 'ws';
import { ApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { connectionLookup, neonConnections } from '../sql/connections.js';
import type { PgliteSqlClient } from '../sql/pglite-sql-client.js';
import type { SqlConnections } from '../sql/sql-client.js';

/**
 * Named connections on Node (see neonConnections); without a "default" one, the default is an
 * embedded PGlite, seeded with the demo's cars table when the demo runs. PGlite starts on the
 * first SQL call, not with the node: it costs ~1-2 s of CPU and ~100+ MB, which a node that
 * only predicts never pays, and its start never delays a prediction (issue 16).
 */
export function nodeSql(env: Record<string, string | undefined>, log: Logger, seedDemo: boolean): { sql: SqlConnections; close(): Promise<void> } {
  const clients = neonConnections(env, log, { webSocket: WebSocket });
  if (!clients.has('default')) {
    let ready: Promise<PgliteSqlClient> | null = null;
    const client = async () => {
      ready ??= startPglite(seedDemo, log);
      try {
        return await ready;
      } catch {
        throw ApiError.unavailable('SQL_UNAVAILABLE', 'The embedded database is not available');
      }
    };
    clients.set('default', {
      run: async (s, ms) => (await client()).run(s, ms),
      check: async (s, ms) => (await client()).check(s, ms),
      // Never started: nothing to close.
      close: async () => (ready ? (await client()).close() : undefined),
    });
  }
  return {
    sql: connectionLookup(clients),
    close: async () => void (await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)))),
  };
}

/** PGlite and its modules are loaded only here, on first use. */
async function startPglite(seedDemo: boolean, log: Logger): Promise<PgliteSqlClient> {
  const started = performance.now();
  const [{ PGlite }, { PgliteSqlClient }, { seedDemoDatabase }] = await Promise.all([import('@electric-sql/pglite'), import('../sql/pglite-sql-client.js'), import('./node-demo-sql.js')]);
  try {
    const db = await PGlite.create();
    if (seedDemo) await seedDemoDatabase(db);
    log.info('embedded Postgres (PGlite) started', { ms: Math.round(performance.now() - started) });
    return new PgliteSqlClient(db, 'default', log);
  } catch (e) {
    log.error('embedded Postgres (PGlite) did not start', { error: String(e) });
    throw e;
  }
}
