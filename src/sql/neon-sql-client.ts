import { Pool } from '@neondatabase/serverless';
import type { Logger } from '../observability/logger.js';
import { typeName, type SqlClient, type SqlRows, type SqlStatement } from './sql-client.js';
import { sqlError } from './sql-errors.js';

/** Values in Postgres text format: no driver-side parsing. */
const RAW = { getTypeParser: () => (v: string) => v };

/**
 * Postgres through the Neon serverless driver (Pool over WebSocket): Neon itself, or any
 * Postgres behind a WebSocket proxy. The pool keeps connections across requests where the
 * runtime allows it (Node, Lambda).
 */
export class NeonSqlClient implements SqlClient {
  private readonly pool: Pool;

  constructor(
    connectionString: string,
    private readonly name: string,
    private readonly log: Logger,
    maxConnections = 5,
  ) {
    this.pool = new Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: 5000 });
    // A connection dropped by the server (idle, or discarded after a failure) must never
    // become an uncaught exception that takes the whole node down.
    this.pool.on('error', (e: Error) => log.warn('sql pool error', { connection: name, error: e.message }));
    this.pool.on('connect', (client: { on(event: 'error', f: (e: Error) => void): unknown }) => client.on('error', (e: Error) => log.warn('sql connection error', { connection: name, error: e.message })));
  }

  async run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    }
    let broken = false;
    try {
      // One round trip opens the transaction and bounds every statement in it.
      await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
      const out: SqlRows[] = [];
      for (const s of statements) {
        const r = await client.query({ text: s.text, values: s.values as unknown[], rowMode: 'array', types: RAW });
        out.push({
          columns: r.fields.map((f) => ({ name: f.name, type: typeName(f.dataTypeID) })),
          rows: r.rows as (string | null)[][],
          updatedRows: r.command === 'SELECT' ? 0 : (r.rowCount ?? 0),
        });
      }
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw sqlError(e, this.name, this.log);
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
