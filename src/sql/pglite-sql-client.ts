import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../observability/logger.js';
import { typeName, type SqlClient, type SqlRows, type SqlStatement } from './sql-client.js';
import { sqlError } from './sql-errors.js';

/** Identity parsers for every type PGlite would otherwise convert: values stay in text format. */
const RAW = Object.fromEntries([16, 17, 20, 21, 23, 26, 114, 700, 701, 1082, 1114, 1184, 1700, 3802].map((oid) => [oid, (v: string) => v]));

/**
 * The embedded default: PGlite (Postgres in WASM) in this process. Queries are serialised by
 * PGlite. Its WASM build does not deliver the statement-timeout signal, so timeoutMs is set but
 * not enforced here (it is on real Postgres through the Neon driver).
 */
export class PgliteSqlClient implements SqlClient {
  constructor(
    private readonly db: PGlite,
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  async run(statements: readonly SqlStatement[], timeoutMs: number): Promise<SqlRows[]> {
    try {
      return await this.db.transaction(async (tx) => {
        await tx.exec(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
        const out: SqlRows[] = [];
        for (const s of statements) {
          const r = await tx.query<unknown[]>(s.text, s.values as unknown[], { rowMode: 'array', parsers: RAW });
          out.push({
            columns: r.fields.map((f) => ({ name: f.name, type: typeName(f.dataTypeID) })),
            rows: r.rows as (string | null)[][],
            updatedRows: r.affectedRows ?? 0,
          });
        }
        return out;
      });
    } catch (e) {
      throw sqlError(e, this.name, this.log);
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
