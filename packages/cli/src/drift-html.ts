import type { DriftBin, DriftReport, FeatureDrift } from '@apinode/protocol';

/*
 * The drift report as one self-contained page (no script, no stylesheet or font fetched): one
 * small histogram per feature, production against reference, in the report's order (most drift
 * first). The charts are inline SVG written here rather than a chart library inlined into every
 * page: a grouped bar chart of at most a dozen bins is some forty lines of SVG, where Chart.js or
 * uPlot would add 50 to 200 KB of script to each report and need JavaScript to show anything
 * (the page prints, and opens in a mail client's viewer, as it is).
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number | null) => (x === null ? '–' : x.toFixed(3));

const W = 440;
const H = 170;
const PAD = { left: 36, right: 36, top: 10, bottom: 46 };

/** A grouped bar chart: per bin, the reference share (grey) then the production share (blue). */
export function histogram(bins: readonly DriftBin[], title: string): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const top = Math.max(0.05, ...bins.flatMap((b) => [b.reference, b.production]));
  const slot = plotW / Math.max(1, bins.length);
  const bar = Math.max(1, Math.min(18, slot * 0.38));
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const parts: string[] = [];
  for (const t of [0, top / 2, top]) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 4}" y="${(y(t) + 3).toFixed(1)}" class="tick" text-anchor="end">${Math.round(t * 100)}%</text>`);
  }
  bins.forEach((b, i) => {
    const x = PAD.left + i * slot + slot / 2;
    for (const [side, v, dx] of [['reference', b.reference, -bar], ['production', b.production, 0]] as const) {
      const h = Math.max(0, PAD.top + plotH - y(v));
      parts.push(`<rect class="${side}" x="${(x + dx).toFixed(1)}" y="${y(v).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(b.label)}: ${side} ${pct(v)}</title></rect>`);
    }
    const label = b.label.length > 14 ? `${b.label.slice(0, 13)}…` : b.label;
    parts.push(`<text class="bin" transform="translate(${x.toFixed(1)},${H - PAD.bottom + 10}) rotate(35)">${esc(label)}</text>`);
  });
  return `<svg class="feature-chart" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

function featureSection(f: FeatureDrift): string {
  const missing = f.counts.productionMissing > 0 || f.counts.referenceMissing > 0 ? `, missing ${f.counts.productionMissing} of ${f.counts.production} in production` : '';
  return `<section class="feature level-${f.level.toLowerCase()}" data-feature="${esc(f.name)}">
<h2>${esc(f.name)} <span class="badge">${f.level}</span></h2>
<p>${f.kind.toLowerCase()} · PSI <b>${num(f.psi)}</b>${f.kind === 'NUMERIC' ? ` · KS <b>${num(f.ks)}</b>` : ''} · reference from ${f.referenceSource === 'STATISTICS' ? 'training statistics' : `${f.counts.reference} background rows`}${missing}</p>
${histogram(f.bins, `${f.name}: production against reference`)}
</section>`;
}

/** The whole page. */
export function driftHtml(r: DriftReport): string {
  const gens = Object.entries(r.records.byGeneration).map(([g, n]) => `${esc(g)}: ${n}`).join(', ') || 'none';
  const prediction = r.prediction
    ? `<section class="prediction"><h2>Predictions in production</h2><p>${r.prediction.count} records</p><ul>${r.prediction.bins.map((b) => `<li>${esc(b.label)}: ${pct(b.production)}</li>`).join('')}</ul></section>`
    : '';
  const rows = r.features.map((f) => `<tr><td>${esc(f.name)}</td><td>${f.kind}</td><td>${num(f.psi)}</td><td>${num(f.ks)}</td><td>${f.level}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift: ${esc(r.serviceId)}/${esc(r.endpointId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
.features{display:flex;flex-wrap:wrap;gap:16px}.feature{border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.feature h2{font-size:16px;margin:0}.feature p{margin:4px 0;color:#555}
.badge{font-size:11px;padding:1px 6px;border-radius:8px;background:#e6f4ea;color:#137333}
.level-moderate .badge{background:#fef7e0;color:#b06000}.level-significant .badge{background:#fce8e6;color:#c5221f}
.reference{fill:#9aa0a6}.production{fill:#1a73e8}.grid{stroke:#eee}.tick,.bin{font-size:10px;fill:#555}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
</style></head><body>
<h1>Drift of ${esc(r.serviceId)} / ${esc(r.endpointId)}</h1>
<p>Window ${esc(r.window.since)} to ${esc(r.window.until)} · reference: generation ${esc(r.generation ?? 'none')}${r.generationFilter ? ` (production restricted to ${esc(r.generationFilter)})` : ''} · ${r.records.compared} of ${r.records.total} records compared (by generation: ${gens}) · ${r.records.errors} errors</p>
<p>PSI below ${r.thresholds.moderate}: no significant change; ${r.thresholds.moderate} to ${r.thresholds.significant}: moderate; ${r.thresholds.significant} and above: significant.
<span class="legend"><span style="background:#9aa0a6"></span>reference<span style="background:#1a73e8"></span>production</span></p>
<table><thead><tr><th>feature</th><th>kind</th><th>PSI</th><th>KS</th><th>level</th></tr></thead><tbody>${rows}</tbody></table>
<div class="features">
${r.features.map(featureSection).join('\n')}
</div>
${prediction}
</body></html>
`;
}
