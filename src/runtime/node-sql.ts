import { PGlite } from '@electric-sql/pglite';
import { WebSocket } from 'ws';
import type { Logger } from '../observability/logger.js';
import { neonConnections } from '../sql/connections.js';
import { PgliteSqlClient } from '../sql/pglite-sql-client.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { seedDemoDatabase } from './node-demo-sql.js';

/**
 * Named connections on Node (see neonConnections); without a "default" one, the default is an
 * embedded PGlite, seeded with the demo's cars table when the demo runs.
 */
export async function nodeSql(env: Record<string, string | undefined>, log: Logger, seedDemo: boolean): Promise<{ sql: SqlConnections; close(): Promise<void> }> {
  const clients = neonConnections(env, log, { webSocket: WebSocket });
  if (!clients.has('default')) {
    const db = await PGlite.create();
    if (seedDemo) await seedDemoDatabase(db);
    clients.set('default', new PgliteSqlClient(db, 'default', log));
  }
  return {
    sql: (name) => clients.get(name.toLowerCase()),
    close: async () => void (await Promise.all([...clients.values()].map((c) => c.close().catch(() => undefined)))),
  };
}
