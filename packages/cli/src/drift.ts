import { writeFile } from 'node:fs/promises';
import type { APINodeAdminClient } from '@apinode/client';
import type { DriftReport } from '@apinode/protocol';
import { driftHtml } from './drift-html.js';
import { UsageError } from './output.js';

export const DRIFT_USAGE = `  drift       <service> <endpoint> [--since 24h|ISO] [--until ISO] [--generation G] [--out report.html]   (docs/drift.md)`;

/** The options `drift` reads (registered with parseArgs in main.ts; --out and --json are shared). */
export interface DriftFlags {
  since?: string | undefined;
  until?: string | undefined;
  generation?: string | undefined;
}

export const DRIFT_OPTIONS = {
  since: { type: 'string' },
  until: { type: 'string' },
  generation: { type: 'string' },
} as const;

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The report as text: one line per feature, most drift first, then the predictions. */
export function driftText(r: DriftReport): string {
  const gens = Object.entries(r.records.byGeneration).map(([g, n]) => `${g} ${n}`).join(', ');
  const head = `drift of ${r.serviceId}/${r.endpointId} against generation ${r.generation ?? '(none)'}, ${r.window.since} to ${r.window.until}: ${r.records.compared} of ${r.records.total} records compared${gens ? ` (${gens})` : ''}, ${r.records.errors} errors`;
  if (r.features.length === 0) return `${head}\nno record in the window: nothing to compare`;
  const width = Math.max(8, ...r.features.map((f) => f.name.length)) + 2;
  const lines = r.features.map((f) => `${pad(f.name, width)}${pad(f.kind, 10)}${pad(f.psi.toFixed(3), 9)}${pad(f.ks === null ? '-' : f.ks.toFixed(3), 8)}${f.level}`);
  const pred = r.prediction && r.prediction.bins.length ? `\npredictions: ${r.prediction.bins.map((b) => `${b.label} ${(b.production * 100).toFixed(1)}%`).join(', ')}` : '';
  const unread = r.read.skippedLines + r.read.unreadableObjects > 0 ? `\nskipped ${r.read.skippedLines} unreadable lines and ${r.read.unreadableObjects} unreadable objects of the log` : '';
  return `${head}\n${pad('feature', width)}${pad('kind', 10)}${pad('PSI', 9)}${pad('KS', 8)}level\n${lines.join('\n')}${pred}${unread}`;
}

/** apinode-admin drift <service> <endpoint>: prints the report, and writes the HTML page with --out. */
export async function driftCommand(args: readonly string[], f: DriftFlags & { out?: string | undefined }, client: () => APINodeAdminClient, show: (v: unknown, human: () => string) => void): Promise<void> {
  const [service, endpoint] = args;
  if (!service || !endpoint) throw new UsageError('missing <service> <endpoint>', 'e.g. apinode-admin drift demo penguin-species --since 24h --out drift.html');
  const report = await client().drift(service, endpoint, { ...(f.since ? { since: f.since } : {}), ...(f.until ? { until: f.until } : {}), ...(f.generation ? { generation: f.generation } : {}) });
  if (f.out) await writeFile(f.out, driftHtml(report));
  show(report, () => driftText(report) + (f.out ? `\nwrote ${f.out}` : ''));
}
