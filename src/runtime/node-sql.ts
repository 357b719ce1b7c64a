import { PGlite } from '@electric-sql/pglite';
import { neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import type { Logger } from '../observability/logger.js';
import { NeonSqlClient } from '../sql/neon-sql-client.js';
import { PgliteSqlClient } from '../sql/pglite-sql-client.js';
import type { SqlClient, SqlConnections } from '../sql/sql-client.js';
import { seedDemoDatabase } from './node-demo-sql.js';

/**
 * Named connections on Node: APINODE_SQL_<NAME>=postgres://… through the Neon driver (Neon,
 * or any Postgres behind a WebSocket proxy: APINODE_SQL_WSPROXY=host:port/path, with
 * APINODE_SQL_WS_SECURE=false for a plain ws:// proxy). Without APINODE_SQL_DEFAULT, the
 * "default" connection is an embedded PGlite, seeded with the demo's cars table.
 */
export async function nodeSql(env: Record<string, string | undefined>, log: Logger, seedDemo: boolean): Promise<{ sql: SqlConnections; close(): Promise<void> }> {
  neonConfig.webSocketConstructor = WebSocket;
  if (env.APINODE_SQL_WSPROXY) {
    const proxy = env.APINODE_SQL_WSPROXY;
    neonConfig.wsProxy = (host, port) => `${proxy}${proxy.includes('?') ? '&' : '?'}address=${host}:${port}`;
    neonConfig.pipelineConnect = false;
  }
  if (env.APINODE_SQL_WS_SECURE === 'false') neonConfig.useSecureWebSocket = false;
  const clients = new Map<string, SqlClient>();
  for (const [key, url] of Object.entries(env)) {
    const m = /^APINODE_SQL_([A-Z0-9_]+)$/.exec(key);
    if (!m || !url || ['WSPROXY', 'WS_SECURE'].includes(m[1] as string)) continue;
    const name = (m[1] as string).toLowerCase();
    clients.set(name, new NeonSqlClient(url, name, log));
  }
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
