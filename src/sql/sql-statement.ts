import type { SqlQueryEndpointSpec, SqlQueryResponse } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { SqlClient, SqlStatement } from './sql-client.js';
import { bindValue } from './sql-values.js';

interface Compiled {
  text: string;
  /** Parameter name for each $n, in order. */
  params: string[];
  capped: boolean;
}

/**
 * Rewrites :name placeholders to $n (outside strings, quoted identifiers, comments and ::casts),
 * so every value is bound as a real parameter. Reads that can be capped are wrapped in a LIMIT
 * one past the cap, to tell a full answer from a cut one without fetching everything.
 */
export function compileStatement(sql: string, declared: ReadonlyMap<string, string>, maxRows: number): Compiled {
  const params: string[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const rest = sql.slice(i);
    const skip = /^('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\/|(\$[A-Za-z_]*\$)[\s\S]*?\2|::)/.exec(rest);
    if (skip) {
      out += skip[0];
      i += skip[0].length;
      continue;
    }
    const p = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
    if (p) {
      const name = p[1] as string;
      const type = declared.get(name);
      if (!type) throw new Error(`statement uses :${name}, which is not a declared parameter`);
      let n = params.indexOf(name);
      if (n === -1) n = params.push(name) - 1;
      out += `$${n + 1}::${type}`;
      i += p[0].length;
      continue;
    }
    out += c;
    i++;
  }
  const body = out.trim().replace(/;\s*$/, '');
  const capped = /^(select|with|values|table)\b/i.test(body.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, ''));
  return { text: capped ? `SELECT * FROM (${body}) AS apinode_capped LIMIT ${maxRows + 1}` : body, params, capped };
}

/** A SQL_QUERY endpoint, compiled once per loaded generation. */
export class SqlQueryEndpoint {
  private readonly statements: Compiled[];
  private readonly types: Map<string, SqlQueryEndpointSpec['parameters'][number]>;

  constructor(readonly spec: SqlQueryEndpointSpec) {
    this.types = new Map(spec.parameters.map((p) => [p.name, p]));
    const declared = new Map(spec.parameters.map((p) => [p.name, p.type]));
    this.statements = spec.statements.map((s) => compileStatement(s, declared, spec.maxRows));
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
      results: answers.map((a, k) => {
        const cut = (this.statements[k] as Compiled).capped && a.rows.length > this.spec.maxRows;
        return { columns: a.columns, rows: cut ? a.rows.slice(0, this.spec.maxRows) : a.rows, updatedRows: a.updatedRows, ...(cut ? { truncated: true } : {}) };
      }),
    };
  }
}
