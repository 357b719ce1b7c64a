import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '@apinode/protocol';
import { driftHtml } from '../../packages/cli/src/drift-html.js';
import { collectProduction } from '../../src/drift/production.js';
import { driftReport } from '../../src/drift/report.js';
import { mulberry32 } from '../../src/inference/explain/random.js';
import { emptyReadStats } from '../../src/observability/query-log-reader.js';
import { massSd, penguinReference, penguinTraffic } from '../support/drift-traffic.js';

/**
 * The page `apinode-admin drift --out` writes, opened from a file in Debian's Chromium (driven by
 * playwright-core) with the network off: one chart per feature, in the report's order, each with
 * a reference and a production bar per bin, and nothing fetched.
 */
const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`;
if (missing) console.warn(`test/browser/drift-report.test.ts skipped: ${missing}`);

describe.skipIf(missing !== null)(`the drift report page in a browser${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 120_000 }, () => {
  let browser: Browser;
  let report: DriftReport;
  let file: string;

  beforeAll(async () => {
    const scope = { serviceId: 'demo', endpointId: 'penguin-species', generationFilter: null, since: new Date('2026-12-01T00:00:00Z'), until: new Date('2026-12-02T00:00:00Z') };
    report = driftReport(scope, await collectProduction(penguinTraffic(1500, 5, 2 * massSd), mulberry32(5)), penguinReference, emptyReadStats());
    file = join(await mkdtemp(join(tmpdir(), 'apinode-drift-page-')), 'report.html');
    await writeFile(file, driftHtml(report));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  afterAll(() => browser?.close());

  it('shows one chart per feature, most drift first, with a bar per bin and side, fetching nothing', async () => {
    const context = await browser.newContext({ offline: true });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => void requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
    const sections = await page.$$eval('section.feature', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg.feature-chart');
        const box = svg?.getBoundingClientRect();
        return {
          name: el.getAttribute('data-feature'),
          charts: el.querySelectorAll('svg.feature-chart').length,
          reference: el.querySelectorAll('rect.reference').length,
          production: el.querySelectorAll('rect.production').length,
          visible: !!box && box.width > 100 && box.height > 50,
        };
      }),
    );
    expect(sections.map((s) => s.name)).toEqual(report.features.map((f) => f.name));
    expect(sections[0]!.name).toBe('body_mass_g');
    sections.forEach((s, i) => {
      const bins = report.features[i]!.bins.length;
      expect(s, s.name!).toEqual({ name: s.name, charts: 1, reference: bins, production: bins, visible: true });
    });
    expect(await page.locator('svg.feature-chart').count()).toBe(report.features.length);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await context.close();
  });
});
