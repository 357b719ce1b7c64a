import type { SqlQueryEndpointSpec, SqlQueryResponse } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { SqlClient, SqlStatement } from './sql-client.js';
import { significant, SqlSyntaxError, tokenize, type Token } from './sql-lexer.js';
import { bindValue } from './sql-values.js';

export interface CompiledStatement {
  /** The statement as it runs: :name bound as typed positional parameters, a read wrapped in the row cap. */
  readonly text: string;
  /** Parameter name for each $n, in order. */
  readonly params: string[];
  readonly capped: boolean;
  /** The statement as the import check runs it: a read capped at LIMIT 0, so Postgres plans it and fetches nothing. */
  readonly checkText: string;
}

const READS = new Set(['select', 'with', 'values', 'table']);
const WRITES = new Set(['insert', 'update', 'delete', 'merge']);

/**
 * Rewrites :name placeholders to typed positional parameters, `($n::type)`, so that every value
 * is bound, never spliced; a placeholder inside a string constant, a quoted identifier, a
 * dollar-quoted string or a comment is text, not a parameter (src/sql/sql-lexer.ts).
 * A read is wrapped in a LIMIT one past the cap, to tell a full answer from a cut one without
 * fetching everything. Throws, naming the problem, for what Postgres would refuse to run as one
 * statement (unterminated literals, unbalanced parentheses, several statements, $1).
 */
export function compileStatement(sql: string, declared: ReadonlyMap<string, string>, maxRows: number): CompiledStatement {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (e) {
    if (e instanceof SqlSyntaxError) throw new Error(`statement has an ${e.message}`);
    throw e;
  }
  // The statement proper: from its first token (a leading comment included) to its last
  // significant one. Trailing semicolons and comments go: a trailing -- comment would
  // swallow the wrapper's closing parenthesis.
  const first = tokens.findIndex((t) => t.kind !== 'space');
  let last = tokens.length - 1;
  while (last >= 0 && (!significant(tokens[last]!) || isPunct(tokens[last]!, ';'))) last--;
  if (first === -1 || last < first || !tokens.slice(first, last + 1).some(significant)) throw new Error('statement is empty');
  const body = tokens.slice(first, last + 1);

  const params: string[] = [];
  let text = '';
  let depth = 0;
  for (const t of body) {
    if (t.kind === 'param') {
      const name = t.text.slice(1);
      const type = declared.get(name);
      if (!type) throw new Error(`statement uses :${name}, which is not a declared parameter`);
      let n = params.indexOf(name);
      if (n === -1) n = params.push(name) - 1;
      text += `($${n + 1}::${type})`;
      continue;
    }
    if (t.kind === 'positional') throw new Error(`statement uses ${t.text} at character ${t.at + 1}: name parameters (:name) instead`);
    if (isPunct(t, ';')) throw new Error(`statement holds more than one statement (";" at character ${t.at + 1}): give each its own entry in "statements"`);
    if (isPunct(t, '(')) depth++;
    if (isPunct(t, ')') && --depth < 0) throw new Error(`statement has an unbalanced ")" at character ${t.at + 1}`);
    text += t.text;
  }
  if (depth > 0) throw new Error('statement has an unclosed "("');
  refuseSessionControl(body.filter(significant));
  const capped = isCappableRead(body.filter(significant));
  const wrap = (limit: number) => `SELECT * FROM (${text}\n) AS apinode_capped LIMIT ${limit}`;
  return { text: capped ? wrap(maxRows + 1) : text, params, capped, checkText: capped ? wrap(0) : text };
}

const TRANSACTION_CONTROL = new Set(['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release']);
/** SET forms whose effect ends with the transaction. */
const TRANSACTION_SCOPED_SET = new Set(['local', 'constraints', 'transaction']);

/**
 * The node opens and ends each call's transaction (and the import check's, which must roll back),
 * and connections are pooled across endpoints and services: a statement may neither end the
 * transaction nor change the session beyond it (SET without LOCAL, RESET).
 */
function refuseSessionControl(tokens: readonly Token[]): void {
  const lead = word(tokens[0]);
  const next = word(tokens[1]);
  if ((lead && TRANSACTION_CONTROL.has(lead)) || (lead === 'prepare' && next === 'transaction')) {
    throw new Error(`statement controls the transaction (${lead.toUpperCase()}): an endpoint's statements run in one transaction the node begins and ends`);
  }
  if ((lead === 'set' && !TRANSACTION_SCOPED_SET.has(next ?? '')) || lead === 'reset') {
    throw new Error(`statement changes the session (${lead.toUpperCase()}), which would outlive the call on a pooled connection: use SET LOCAL`);
  }
}

const isPunct = (t: Token, c: string) => t.kind === 'punct' && t.text === c;
const word = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toLowerCase() : undefined);

/**
 * Whether a statement is a plain read that a subquery can hold: it starts with SELECT, WITH,
 * VALUES or TABLE (after any parentheses), has no data-modifying WITH (INSERT, UPDATE, DELETE,
 * MERGE right after a parenthesis: a CTE body, or the main statement after the CTE list) and no
 * top-level SELECT … INTO (which creates a table). Postgres allows neither inside a subquery.
 */
function isCappableRead(tokens: readonly Token[]): boolean {
  const lead = tokens.findIndex((t) => !isPunct(t, '('));
  if (!READS.has(word(tokens[lead]) ?? '')) return false;
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    const w = word(t);
    if (w && WRITES.has(w) && i > 0 && (isPunct(tokens[i - 1]!, '(') || isPunct(tokens[i - 1]!, ')'))) return false;
    if (w === 'into' && depth === 0) return false;
  }
  return true;
}

/** A SQL_QUERY endpoint, compiled once per loaded generation. */
export class SqlQueryEndpoint {
  private readonly statements: CompiledStatement[];
  private readonly types: Map<string, SqlQueryEndpointSpec['parameters'][number]>;

  constructor(readonly spec: SqlQueryEndpointSpec) {
    this.types = new Map(spec.parameters.map((p) => [p.name, p]));
    const declared = new Map(spec.parameters.map((p) => [p.name, p.type]));
    this.statements = spec.statements.map((s, k) => {
      try {
        return compileStatement(s, declared, spec.maxRows);
      } catch (e) {
        throw new Error(spec.statements.length > 1 ? (e as Error).message.replace(/^statement /, `statement ${k + 1} `) : (e as Error).message);
      }
    });
    for (const p of spec.parameters) {
      const bound = p.default === undefined || p.default === null ? null : bindValue(p.type, p.default);
      if (bound && 'error' in bound) throw new Error(`the default of parameter "${p.name}" ${bound.error} (${p.type})`);
    }
  }

  /**
   * The statements as the import check runs them (in a transaction that rolls back): every
   * parameter at its default, or NULL; reads planned but not fetched (LIMIT 0).
   */
  checkStatements(): SqlStatement[] {
    const sample = (name: string) => {
      const p = this.types.get(name)!;
      const bound = p.default === undefined || p.default === null ? null : bindValue(p.type, p.default);
      return bound && 'value' in bound ? bound.value : null;
    };
    return this.statements.map((s) => ({ text: s.checkText, values: s.params.map(sample) }));
  }

  /** Binds the request's named parameters (400 naming any unknown, missing or invalid one) and runs. */
  async run(client: SqlClient, args: Readonly<Record<string, unknown>>): Promise<SqlQueryResponse> {
    for (const name of Object.keys(args)) {
      if (!this.types.has(name)) throw ApiError.badRequest('UNKNOWN_PARAMETER', `Unknown parameter "${name}"`, `parameters: ${[...this.types.keys()].join(', ') || 'none'}`);
    }
    const values = new Map<string, unknown>();
    for (const [name, p] of this.types) {
      const raw = args[name] ?? p.default;
      if (raw === undefined) throw ApiError.badRequest('MISSING_PARAMETER', `Missing parameter "${name}" (${p.type})`);
      if (raw === null) {
        values.set(name, null);
        continue;
      }
      const bound = bindValue(p.type, raw);
      if ('error' in bound) throw ApiError.badRequest('INVALID_PARAMETER', `Parameter "${name}" ${bound.error} (${p.type})`);
      values.set(name, bound.value);
    }
    const statements: SqlStatement[] = this.statements.map((s) => ({ text: s.text, values: s.params.map((n) => values.get(n)) }));
    const answers = await client.run(statements, this.spec.timeoutMs);
    return {
      // A read is capped in SQL; anything else answering rows (RETURNING) is cut here.
      results: answers.map((a) => {
        const cut = a.rows.length > this.spec.maxRows;
        return { columns: a.columns, rows: cut ? a.rows.slice(0, this.spec.maxRows) : a.rows, updatedRows: a.updatedRows, ...(cut ? { truncated: true } : {}) };
      }),
    };
  }
}
