import type { FeatureRecord } from '../../inference/encoding.js';
import type { SqlConnections } from '../../sql/sql-client.js';
import { ApiError } from '../../errors.js';
import type { Lookup } from '../../sql/lookup.js';

export interface Enriched {
  /** The records with looked-up columns added (a request's own values are overwritten). */
  records: FeatureRecord[];
  /** Records a lookup policy ignored, with the reason. */
  ignored: Map<number, string>;
}

/**
 * Enrichment of prediction features: each lookup of the endpoint runs once for the whole batch
 * (one round trip), its columns join the records, and its policies may ignore records.
 */
export async function enrich(lookups: readonly Lookup[], records: readonly FeatureRecord[], sql: SqlConnections): Promise<Enriched> {
  let out = records as FeatureRecord[];
  const ignored = new Map<number, string>();
  for (const lookup of lookups) {
    const spec = lookup.spec;
    const client = sql(spec.connection);
    if (!client) throw ApiError.unavailable('SQL_NOT_CONFIGURED', `No database connection named "${spec.connection}" is configured on this node`);
    const found = await lookup.run(client, out);
    out = out.map((rec, i) => {
      const r = found[i]!;
      if (r.ignored) {
        if (!ignored.has(i)) ignored.set(i, `${r.ignoreReason} (enrichment from ${spec.table})`);
        return rec;
      }
      return { ...rec, ...r.data };
    });
  }
  return { records: out, ignored };
}
