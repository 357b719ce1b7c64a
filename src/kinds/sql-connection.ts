import { ApiError } from '../errors.js';
import type { SqlClient, SqlConnections, SqlStatement } from '../sql/sql-client.js';
import { isClientSqlState } from '../sql/sql-client.js';
import { at, type CheckContext, type Checked } from './kind.js';

/** The named connection, or 503 saying how to configure it. */
export function connection(sql: SqlConnections, name: string): SqlClient {
  const client = sql(name);
  if (!client) throw ApiError.unavailable('SQL_NOT_CONFIGURED', `No database connection named "${name}" is configured on this node`, `set APINODE_SQL_${name.toUpperCase()}`);
  return client;
}

/** The longest an import waits for one endpoint's statements. */
const CHECK_TIMEOUT_MS = 10_000;

/** What the import check of a data endpoint runs: its statements with sample values. */
export interface CheckPlan {
  readonly connection: string;
  readonly statements: readonly SqlStatement[];
  readonly timeoutMs: number;
}

/**
 * The import check of a data endpoint (SQL query, lookup, enrichment): its SQL compiles, and,
 * when the importing node has a connection of that name, its statements run once in a
 * transaction that always rolls back. A statement Postgres refuses (a syntax error, a table or
 * column that does not exist, a missing privilege) is a problem naming the endpoint; a data error
 * on the sample values (defaults, else NULL) is not. A database that cannot be reached fails
 * the import with 503: it cannot be checked now. Without a connection (the CLI validating
 * against a bucket), only the compile check is done (docs/sql.md).
 */
export async function checkDataEndpoint(spec: { readonly id: string }, ctx: CheckContext, plan: () => CheckPlan | readonly CheckPlan[], what = ''): Promise<Checked> {
  let plans: readonly CheckPlan[];
  try {
    const p = plan();
    plans = Array.isArray(p) ? p : [p as CheckPlan];
  } catch (e) {
    return { problems: [`${at(spec)}${what}: ${(e as Error).message}`], examplesChecked: 0 };
  }
  const problems: string[] = [];
  for (const p of plans) {
    const client = ctx.services.sql(p.connection);
    if (!client?.check) continue;
    const outcomes = await client.check(p.statements, Math.min(p.timeoutMs, CHECK_TIMEOUT_MS));
    outcomes.forEach((o, k) => {
      if (o.ok || isClientSqlState(o.code)) return;
      const which = p.statements.length > 1 ? ` statement ${k + 1}` : '';
      problems.push(
        o.code === '57014'
          ? `${at(spec)}${what}${which} did not finish within ${Math.min(p.timeoutMs, CHECK_TIMEOUT_MS)} ms on database "${p.connection}" (run with sample values during the import check)`
          : `${at(spec)}${what}${which} cannot run on database "${p.connection}": ${o.message} (SQLSTATE ${o.code})`,
      );
    });
  }
  return { problems, examplesChecked: 0 };
}
