import { Client, Pool } from '@neondatabase/serverless';
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
export interface NeonClientOptions {
  /** @default 5 */
  maxConnections?: number;
  /** A fresh connection per call, closed after it (Workers: no I/O across requests). @default false */
  connectionPerCall?: boolean;
}

export class NeonSqlClient implements SqlClient {
  private readonly pool: Pool;
  private readonly perCall: boolean;

  constructor(
    private readonly connectionString: string,
    private readonly name: string,
    private readonly log: Logger,
    opts: NeonClientOptions = {},
  ) {
    this.perCall = opts.connectionPerCall ?? false;
    this.pool = new Pool({ connectionString, max: opts.maxConnections ?? 5, connectionTimeoutMillis: 5000 });
    // A connection dropped by the server (idle, or discarded after a failure) must never
    // become an uncaught exception that takes the whole node down.
    this.pool.on('error', (e: Error) => log.warn('sql pool error', { connection: name, error: e.message }));
    this.pool.on('connect', (client: { on(event: 'error', f: (e: Error) => void): unknown }) => client.on('error', (e: Error) => log.warn('sql connection error', { connection: name, error: e.message })));
  }

  async run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    if (this.perCall) return this.runOnOwnConnection(statements, timeoutMs);
    let client;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    }
    let broken = false;
    try {
      return await transaction(client, statements, timeoutMs);
    } catch (e) {
      broken = (e as { connectionBroken?: boolean }).connectionBroken === true;
      throw sqlError(e, this.name, this.log);
    } finally {
      client.release(broken);
    }
  }

  private async runOnOwnConnection(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    const client = new Client({ connectionString: this.connectionString });
    client.on('error', (e: Error) => this.log.warn('sql connection error', { connection: this.name, error: e.message }));
    try {
      await client.connect();
      return await transaction(client, statements, timeoutMs);
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    } finally {
      void client.end().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

type Queryable = Pick<Client, 'query'>;

/** The statements in one transaction, every one bounded by the statement timeout. */
async function transaction(client: Queryable, statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
  try {
    // One round trip opens the transaction and sets the timeout.
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
    const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
    // A connection that cannot even roll back is broken: its pool must not hand it out again.
    if (!rolledBack && e instanceof Error) Object.assign(e, { connectionBroken: true });
    throw e;
  }
}
