import type { SqlCheckOutcome, SqlStatement } from './sql-client.js';
import { failureOf, isSqlState, isUnavailableState, maskSecrets } from './sql-errors.js';

/** Sends one command (a statement with its values, or a bare command) on an open transaction. */
export type Send = (text: string, values?: readonly unknown[]) => Promise<unknown>;

/**
 * The statements of an import check, in order, inside a transaction the caller rolls back:
 * each under a savepoint, so that one that fails leaves the next able to run. Postgres's own
 * refusals (a SQLSTATE) become outcomes; anything else (the connection) is thrown.
 */
export async function checkEach(send: Send, statements: readonly SqlStatement[]): Promise<SqlCheckOutcome[]> {
  const out: SqlCheckOutcome[] = [];
  for (const s of statements) {
    await send('SAVEPOINT apinode_check');
    try {
      await send(s.text, s.values);
      await send('RELEASE SAVEPOINT apinode_check');
      out.push({ ok: true });
    } catch (e) {
      const { code } = failureOf(e);
      if (!code || !isSqlState(code) || isUnavailableState(code)) throw e;
      await send('ROLLBACK TO SAVEPOINT apinode_check');
      const message = typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
      out.push({ ok: false, code, message: maskSecrets(message).slice(0, 300) });
    }
  }
  return out;
}
