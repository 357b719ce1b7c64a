import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Logger } from '../observability/logger.js';
import { withDeadline } from './deadline.js';
import { checkEach } from './sql-check.js';
import { CLIENT_MARGIN_MS, transactionSettings, typeName, type SqlCheckOutcome, type SqlClient, type SqlRows, type SqlStatement } from './sql-client.js';
import { noAnswer, sqlError } from './sql-errors.js';

/** Identity parsers for every type PGlite would otherwise convert: values stay in text format. */
const RAW = Object.fromEntries([16, 17, 20, 21, 23, 26, 114, 700, 701, 1082, 1114, 1184, 1700, 3802].map((oid) => [oid, (v: string) => v]));

/** Thrown inside a transaction whose caller has already been answered: it rolls back. */
class Abandoned extends Error {}

/**
 * The embedded default: PGlite (Postgres in WASM) in this process. Queries are serialised by
 * PGlite. Its WASM build does not deliver the statement-timeout signal, and a statement runs
 * synchronously on the event loop, so timeoutMs bounds only the wait for PGlite (a call queued
 * behind another): past it the call fails, and its transaction, should it start, rolls back.
 */
export class PgliteSqlClient implements SqlClient {
  constructor(
    private readonly db: PGlite,
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    return this.call(timeoutMs, async (tx, live) => {
      const out: SqlRows[] = [];
      for (const s of statements) {
        live();
        const r = await tx.query<unknown[]>(s.text, s.values as unknown[], { rowMode: 'array', parsers: RAW });
        out.push({
          columns: r.fields.map((f) => ({ name: f.name, type: typeName(f.dataTypeID) })),
          rows: r.rows as (string | null)[][],
          updatedRows: r.affectedRows ?? 0,
        });
      }
      live();
      return out;
    });
  }

  check(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlCheckOutcome[]> {
    return this.call(timeoutMs, async (tx, live) => {
      const out = await checkEach((text, values) => (live(), values === undefined ? tx.exec(text) : tx.query(text, values as unknown[])), statements);
      await tx.rollback();
      return out;
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }

  /** One transaction, abandoned (and so rolled back) once its caller has been answered. */
  private async call<T>(timeoutMs: number, body: (tx: Transaction, live: () => void) => Promise<T>): Promise<T> {
    let expired = false;
    const live = () => {
      if (expired) throw new Abandoned('abandoned after its deadline');
    };
    const limitMs = timeoutMs + CLIENT_MARGIN_MS;
    let started = false;
    const work = this.db.transaction(async (tx) => {
      live();
      started = true;
      await tx.exec(transactionSettings(timeoutMs));
      return body(tx, live);
    });
    try {
      return await withDeadline(limitMs, work, () => {
        expired = true;
        return noAnswer(this.name, started ? 'query' : 'connect', limitMs, this.log);
      });
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    }
  }
}
