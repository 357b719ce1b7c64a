import type { LookupResult, LookupSpec } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { SqlClient, SqlStatement } from './sql-client.js';
import { bindValue, fromText, quoteIdent } from './sql-values.js';

/**
 * Looks records up in a table: the whole batch in ONE round trip (the distinct keys are
 * unnested and joined), then each record gets its row under the endpoint's policies.
 * Used by DATASETS_LOOKUP endpoints and by enrichment of prediction features.
 */
export class Lookup {
  /** How long one batch may take. */
  static readonly TIMEOUT_MS = 10_000;

  private readonly sql: string;

  constructor(readonly spec: LookupSpec) {
    const keys = spec.keys.map((k, i) => ({ ...k, alias: `k${i}` }));
    const select = [...spec.columns.map((c) => `t.${quoteIdent(c.column)}`), 'u.apinode_i'].join(', ');
    const unnest = keys.map((k, i) => `$${i + 1}::${k.type}[]`).join(', ');
    const on = keys.map((k) => `t.${quoteIdent(k.column)} = u.${k.alias}`).join(' AND ');
    const order = spec.orderBy ? spec.orderBy.replace(/^(\w+)/, (m) => `t.${quoteIdent(m)}`) : keys.map((k) => `t.${quoteIdent(k.column)}`).join(', ');
    this.sql = `SELECT ${select} FROM ${quoteIdent(spec.table)} t JOIN unnest(${unnest}) WITH ORDINALITY AS u(${keys.map((k) => k.alias).join(', ')}, apinode_i) ON ${on} ORDER BY u.apinode_i, ${order}`;
  }

  /** The lookup as the import check runs it: no keys, so Postgres checks the table, columns, key types and order, and reads nothing. */
  checkStatement(): SqlStatement {
    return { text: this.sql, values: this.spec.keys.map(() => []) };
  }

  async run(client: SqlClient, records: readonly Readonly<Record<string, unknown>>[], timeoutMs = Lookup.TIMEOUT_MS): Promise<LookupResult[]> {
    const { keys, policies } = this.spec;
    const results: LookupResult[] = new Array(records.length);
    const distinct = new Map<string, number>(); // key tuple -> ordinal (1-based)
    const columns: unknown[][] = keys.map(() => []);
    const ordinalOf: number[] = new Array(records.length).fill(0);
    records.forEach((rec, r) => {
      const tuple: unknown[] = [];
      for (const k of keys) {
        const name = k.from ?? k.column;
        const v = rec[name];
        if (v === undefined || v === null || v === '') {
          if (policies.missingKey === 'ERROR') throw ApiError.badRequest('MISSING_KEY', `Record ${r} has no value for lookup key "${name}"`);
          results[r] = { ignored: true, ignoreReason: `MISSING_KEY: no value for "${name}"` };
          return;
        }
        const bound = bindValue(k.type, v);
        if ('error' in bound) {
          results[r] = { ignored: true, ignoreReason: `INVALID_KEY: "${name}" ${bound.error} (${k.type})` };
          return;
        }
        tuple.push(bound.value);
      }
      const id = JSON.stringify(tuple);
      let ordinal = distinct.get(id);
      if (ordinal === undefined) {
        ordinal = distinct.size + 1;
        distinct.set(id, ordinal);
        tuple.forEach((v, i) => columns[i]!.push(v));
      }
      ordinalOf[r] = ordinal;
    });
    const matches = new Map<number, Record<string, unknown>[]>();
    if (distinct.size > 0) {
      const [answer] = await client.run([{ text: this.sql, values: columns }], timeoutMs);
      const cols = answer!.columns;
      for (const row of answer!.rows) {
        const ordinal = Number(row[row.length - 1]);
        const data: Record<string, unknown> = {};
        this.spec.columns.forEach((c, j) => (data[c.as ?? c.column] = fromText(cols[j]!.type, row[j] ?? null)));
        const list = matches.get(ordinal) ?? [];
        list.push(data);
        matches.set(ordinal, list);
      }
    }
    records.forEach((_, r) => {
      if (results[r]) return;
      const found = matches.get(ordinalOf[r]!) ?? [];
      if (found.length === 0) {
        if (policies.noMatch === 'ERROR') throw ApiError.badRequest('NO_MATCH', `Record ${r} matches no row of ${this.spec.table}`);
        results[r] = policies.noMatch === 'KEEP' ? { data: {}, ignored: false } : { ignored: true, ignoreReason: 'NO_MATCH' };
      } else if (found.length > 1 && policies.multipleMatches !== 'KEEP_FIRST') {
        if (policies.multipleMatches === 'ERROR') throw ApiError.badRequest('MULTIPLE_LOOKUP_MATCHES', `Record ${r} matches ${found.length} rows of ${this.spec.table}`);
        results[r] = { ignored: true, ignoreReason: 'MULTIPLE_LOOKUP_MATCHES' };
      } else {
        results[r] = { data: found[0]!, ignored: false };
      }
    });
    return results;
  }
}
