import { neonConfig } from '@neondatabase/serverless';
import type { Logger } from '../observability/logger.js';
import { NeonSqlClient } from './neon-sql-client.js';
import type { SqlClient, SqlConnections } from './sql-client.js';

export interface NeonOptions {
  /** A WebSocket class where the runtime has none (Node 20: the `ws` package). */
  webSocket?: unknown;
  /** Workers: I/O cannot outlive a request, so each call opens its own connection. @default false */
  connectionPerCall?: boolean;
}

/**
 * Named connections from the environment, on every runtime: APINODE_SQL_<NAME>=postgres://…
 * (APINODE_DATABASE_URL, e.g. from a secret, is "default"). Neon, or any Postgres behind a
 * WebSocket proxy: APINODE_SQL_WSPROXY=host:port/path, APINODE_SQL_WS_SECURE=false for ws://.
 */
export function neonConnections(env: Readonly<Record<string, string | undefined>>, log: Logger, opts: NeonOptions = {}): Map<string, SqlClient> {
  if (opts.webSocket) neonConfig.webSocketConstructor = opts.webSocket as typeof neonConfig.webSocketConstructor;
  const proxy = env.APINODE_SQL_WSPROXY;
  if (proxy) {
    neonConfig.wsProxy = (host, port) => `${proxy}${proxy.includes('?') ? '&' : '?'}address=${host}:${port}`;
    neonConfig.pipelineConnect = false;
  }
  if (env.APINODE_SQL_WS_SECURE === 'false') neonConfig.useSecureWebSocket = false;
  const clients = new Map<string, SqlClient>();
  const add = (name: string, url: string) => clients.set(name, new NeonSqlClient(url, name, log, { connectionPerCall: opts.connectionPerCall ?? false }));
  if (env.APINODE_DATABASE_URL) add('default', env.APINODE_DATABASE_URL);
  for (const [key, url] of Object.entries(env)) {
    const m = /^APINODE_SQL_([A-Z0-9_]+)$/.exec(key);
    if (m && url && !['WSPROXY', 'WS_SECURE', 'SECRET_ARN'].includes(m[1] as string)) add((m[1] as string).toLowerCase(), url);
  }
  return clients;
}

/**
 * The SqlConnections port over named clients, on every runtime. Names are case-insensitive:
 * APINODE_SQL_ORDERS is the connection a manifest may call "orders" or "ORDERS".
 */
export function connectionLookup(clients: ReadonlyMap<string, SqlClient>): SqlConnections {
  return (name) => clients.get(name.toLowerCase());
}
