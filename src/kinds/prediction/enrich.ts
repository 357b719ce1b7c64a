import type { LookupSpec } from '@apinode/protocol';
import type { FeatureRecord } from '../../inference/encoding.js';
import type { SqlConnections } from '../../sql/sql-client.js';
import { Lookup } from '../../sql/lookup.js';
import type { CheckContext, Checked } from '../kind.js';
import { checkDataEndpoint, connection } from '../sql-connection.js';

export interface Enriched {
  /** The records with looked-up columns added (a request's own values are overwritten). */
  records: FeatureRecord[];
  /** Records a lookup policy ignored, with the reason. */
  ignored: Map<number, string>;
}

/**
 * Enrichment of prediction features: each lookup of the endpoint runs once for the whole batch
 * (one round trip), its columns join the records, and its policies may ignore records (a key
 * the database could not hold, such as text with a NUL, ignores that record only).
 */
export async function enrich(lookups: readonly Lookup[], records: readonly FeatureRecord[], sql: SqlConnections): Promise<Enriched> {
  let out = records as FeatureRecord[];
  const ignored = new Map<number, string>();
  for (const lookup of lookups) {
    const spec = lookup.spec;
    const found = await lookup.run(connection(sql, spec.connection), out);
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

/** The import check of an endpoint's enrichment lookups, as for lookup endpoints (src/kinds/sql-connection.ts). */
export function checkEnrichment(spec: { readonly id: string; readonly enrich: readonly LookupSpec[] }, ctx: CheckContext): Promise<Checked> {
  return checkDataEndpoint(
    spec,
    ctx,
    () => spec.enrich.map((l) => ({ connection: l.connection, statements: [new Lookup(l).checkStatement()], timeoutMs: Lookup.TIMEOUT_MS })),
    ' enrichment',
  );
}
