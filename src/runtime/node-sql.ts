import { PGlite } from '@electric-sql/pglite';
import { WebSocket } from 'ws';
import { ApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { connectionLookup, neonConnections } from '../sql/connections.js';
import { PgliteSqlClient } from '../sql/pglite-sql-client.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { seedDemoDatabase } from './node-demo-sql.js';

/**
 * Named connections on Node (see neonConnections); without a "default" one, the default is an
 * embedded PGlite, seeded with the demo's cars table when the demo runs.
 */
export function nodeSql(env: Record<string, string | undefined>, log: Logger, seedDemo: boolean): { sql: SqlConnections; close(): Promise<void> } {
  const clients = neonConnections(env, log, { webSocket: WebSocket });
  if (!clients.has('default')) {
    // Started in the background: the node listens at once, and SQL calls wait for it (~2 s).
    const ready = (async () => {
      const db = await PGlite.create();
      if (seedDemo) await seedDemoDatabase(db);
      return new PgliteSqlClient(db, 'default', log);
    })();
    ready.catch((e: unknown) => log.error('embedded Postgres (PGlite) did not start', { error: String(e) }));
    const client = async () => {
      try {
        return await ready;
      } catch {
        throw ApiError.unavailable('SQL_UNAVAILABLE', 'The embedded database is not available');
      }
    };
    clients.set('default', { run: async (s, ms) => (await client()).run(s, ms), check: async (s, ms) => (await client()).check(s, ms), close: async () => (await client()).close() });
  }
  return {
    sql: connectionLookup(clients),
    close: async () => void (await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)))),
  };
}
