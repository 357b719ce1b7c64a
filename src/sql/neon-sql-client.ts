import { Client, Pool, type PoolClient } from '@neondatabase/serverless';
import type { Logger } from '../observability/logger.js';
import { withDeadline } from './deadline.js';
import { checkEach, type Send } from './sql-check.js';
import { CLIENT_MARGIN_MS, transactionSettings, typeName, type SqlCheckOutcome, type SqlClient, type SqlRows, type SqlStatement } from './sql-client.js';
import { failureOf, noAnswer, sqlError } from './sql-errors.js';

/** Values in Postgres text format: no driver-side parsing. */
const RAW = { getTypeParser: () => (v: string) => v };

export interface NeonClientOptions {
  /** @default 5 */
  maxConnections?: number;
  /** A fresh connection per call, closed after it (Workers: no I/O across requests). @default false */
  connectionPerCall?: boolean;
}

type Queryable = Pick<Client, 'query'>;
const sender =
  (c: Queryable): Send =>
  (text, values) =>
    values === undefined ? c.query(text) : c.query({ text, values: values as unknown[] });

/** A connection for one call. */
interface Lease {
  readonly client: Promise<Queryable>;
  /** After use: `discard` destroys it (it may be mid-statement, or broken) instead of keeping it. */
  release(discard: boolean): void;
  /** Given up while connecting: whatever the connection attempt yields is not used. */
  abandon(): void;
}

/**
 * Postgres through the Neon serverless driver (Pool over WebSocket): Neon itself, or any
 * Postgres behind a WebSocket proxy. The pool keeps connections across requests where the
 * runtime allows it (Node, Lambda).
 */
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
    this.pool.on('error', (e: unknown) => this.warn('sql pool error', e));
    this.pool.on('connect', (client: { on(event: 'error', f: (e: unknown) => void): unknown }) => client.on('error', (e) => this.warn('sql connection error', e)));
  }

  run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    return this.call(timeoutMs, (c) => transaction(c, timeoutMs, 'COMMIT', () => runEach(c, statements)));
  }

  check(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlCheckOutcome[]> {
    return this.call(timeoutMs, (c) => transaction(c, timeoutMs, 'ROLLBACK', () => checkEach(sender(c), statements)));
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /**
   * One call on one connection, bounded by timeoutMs (plus a margin for the server's own
   * statement timeout to answer first): a database that accepts and never answers fails in
   * time, and its connection is discarded rather than handed out again.
   */
  private async call<T>(timeoutMs: number, use: (client: Queryable) => Promise<T>): Promise<T> {
    const limitMs = timeoutMs + CLIENT_MARGIN_MS;
    const lease = this.perCall ? this.ownConnection(limitMs) : this.pooledConnection();
    let phase: 'connect' | 'query' = 'connect';
    let expired = false;
    const work = (async () => {
      const client = await lease.client;
      if (expired) return undefined as never; // already answered; the lease was given back
      phase = 'query';
      let broken = false;
      try {
        return await use(client);
      } catch (e) {
        broken = (e as { connectionBroken?: boolean }).connectionBroken === true;
        throw e;
      } finally {
        if (!expired) lease.release(broken);
      }
    })();
    try {
      return await withDeadline(limitMs, work, () => {
        expired = true;
        // Connected: the connection may still be running the statement, so it is destroyed.
        // Still connecting: the connection, when it comes, is healthy and goes back unused.
        if (phase === 'query') lease.release(true);
        else lease.abandon();
        return noAnswer(this.name, phase, limitMs, this.log);
      });
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    }
  }

  private pooledConnection(): Lease {
    let pooled: PoolClient | undefined;
    const client = this.pool.connect().then((c) => (pooled = c));
    return {
      client,
      // pg's release(truthy) destroys the connection instead of returning it to the pool.
      release: (discard) => pooled?.release(discard),
      // The pool's own connection timeout ends an attempt that never completes.
      abandon: () => void client.then((c) => c.release(), () => undefined),
    };
  }

  private ownConnection(limitMs: number): Lease {
    // Just after the call's deadline, the driver's own connection timeout closes the socket of an
    // attempt that never completes (its end() does not, before the connection is up).
    const client = new Client({ connectionString: this.connectionString, connectionTimeoutMillis: limitMs + 100 });
    client.on('error', (e: unknown) => this.warn('sql connection error', e));
    return {
      client: client.connect().then(() => client, (e: unknown) => {
        void client.end().catch(() => undefined);
        throw e;
      }),
      release: () => void client.end().catch(() => undefined),
      abandon: () => void client.end().catch(() => undefined),
    };
  }

  private warn(msg: string, e: unknown): void {
    const { message, code } = failureOf(e);
    this.log.warn(msg, { connection: this.name, code, error: message });
  }
}

/** One transaction: its settings in the same round trip as BEGIN, the body, then COMMIT (or ROLLBACK for a check). */
async function transaction<T>(client: Queryable, timeoutMs: number, end: 'COMMIT' | 'ROLLBACK', body: () => Promise<T>): Promise<T> {
  try {
    await client.query(`BEGIN; ${transactionSettings(timeoutMs)}`);
    const out = await body();
    await client.query(end);
    return out;
  } catch (e) {
    const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
    // A connection that cannot even roll back is broken: its pool must not hand it out again.
    if (!rolledBack && typeof e === 'object' && e !== null) Object.assign(e, { connectionBroken: true });
    throw e;
  }
}

async function runEach(client: Queryable, statements: readonly SqlStatement[]): Promise<SqlRows[]> {
  const out: SqlRows[] = [];
  for (const s of statements) {
    const r = await client.query({ text: s.text, values: s.values as unknown[], rowMode: 'array', types: RAW });
    out.push({
      columns: r.fields.map((f) => ({ name: f.name, type: typeName(f.dataTypeID) })),
      rows: r.rows as (string | null)[][],
      updatedRows: r.command === 'SELECT' ? 0 : (r.rowCount ?? 0),
    });
  }
  return out;
}
