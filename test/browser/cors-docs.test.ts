import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type NodeServer } from '../../src/runtime/node.js';

/**
 * The node as a browser sees it, in Debian's Chromium driven by playwright-core: a page from
 * another origin calls predict with a key (CORS: granted for the demo's http://localhost:*,
 * refused for an origin it does not list), and /docs shows the demo's endpoints and sends a
 * real predict, with nothing fetched from outside the node.
 */
const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`;
if (missing) console.warn(`test/browser/cors-docs.test.ts skipped: ${missing}`);
const KEY = 'browser-demo-key';
// Resolved by Chromium alone: an origin the demo service does not list, on this machine.
const OTHER_HOST = 'pages.example.test';

const PAGE = `<!doctype html><meta charset="utf-8"><title>another origin</title>
<script>
  window.predict = async (base, key) => {
    try {
      const res = await fetch(base + '/public/api/v1/demo/penguin-species/predict', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + key, 'Content-Type': 'application/json' },
        body: JSON.stringify({ features: { island: 'Biscoe', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' } }),
      });
      return { status: res.status, generation: res.headers.get('X-Apinode-Generation'), body: await res.json() };
    } catch (e) {
      return { error: String(e) };
    }
  };
</script>`;

// First calls load models and start a browser on a shared machine: generous timeouts.
describe.skipIf(missing !== null)(`a browser on another origin, and the docs page${missing ? ` (skipped: ${missing})` : ''}`, { timeout: 120_000 }, () => {
  let node: NodeServer;
  let pages: Server;
  let pagesPort: number;
  let browser: Browser;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apinode-browser-'));
    node = await start({ PORT: '0', APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'off' });
    pages = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE));
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagesPort = (pages.address() as AddressInfo).port;
    // The flags of node-svc.md: no sandbox as root, and no background traffic to Google on a closed network.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${OTHER_HOST} 127.0.0.1`],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pages?.close(resolve));
    await node?.close();
  });

  async function pageAt(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it('lets a page from an allowed origin (http://localhost:*) call predict with a key and read the answer', async () => {
    const page = await pageAt(`http://localhost:${pagesPort}`);
    const got = await page.evaluate(([base, key]) => (window as unknown as { predict: (b: string, k: string) => Promise<unknown> }).predict(base!, key!), [node.url, KEY]);
    expect(got).toMatchObject({ status: 200, generation: expect.stringMatching(/^v[12]$/), body: { result: { prediction: 'Gentoo' } } });
    await page.close();
  });

  it('keeps the answer from a page whose origin the service does not list', async () => {
    const page = await pageAt(`http://${OTHER_HOST}:${pagesPort}`);
    const got = await page.evaluate(([base, key]) => (window as unknown as { predict: (b: string, k: string) => Promise<unknown> }).predict(base!, key!), [node.url, KEY]);
    expect(got).toEqual({ error: expect.stringMatching(/Failed to fetch/) });
    await page.close();
  });

  it("shows the demo service's endpoints on /docs and sends a real predict from it, all from the node itself", async () => {
    const page = await browser.newPage();
    const outside: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(node.url) || r.url().startsWith('data:') || outside.push(r.url())));
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
    page.on('pageerror', (e) => void problems.push(String(e)));

    await page.goto(`${node.url}/docs?service=demo`);
    await page.fill('#key', KEY);
    await page.click('#pick button[type=submit]');
    const tags = page.locator('.opblock-tag');
    await expect.poll(() => tags.allTextContents(), { timeout: 60_000 }).toEqual(expect.arrayContaining([expect.stringContaining('penguin-species'), expect.stringContaining('car-mpg'), expect.stringContaining('stock-forecast')]));
    expect(await page.locator('.info .title').textContent()).toContain('Service demo');

    // "Try it out" is on: expanding the operation shows the manifest's first example, ready to send.
    await page.locator('.opblock-summary-path[data-path="/public/api/v1/demo/penguin-species/predict"]').first().click();
    const op = page.locator('.opblock.is-open').first();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table tr.response .response-col_status');
    await expect.poll(() => status.first().textContent(), { timeout: 60_000 }).toContain('200');
    expect(await op.locator('.live-responses-table tr.response .response-col_description').first().textContent()).toContain('"prediction"');

    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
