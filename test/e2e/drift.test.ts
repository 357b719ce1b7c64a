import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriftReport } from '@apinode/protocol';
import { loadReference, referenceScore } from '../../examples/reference-scorer.js';
import { start, type NodeServer } from '../../src/runtime/node.js';
import { massSd, penguinRecords } from '../support/drift-traffic.js';

/**
 * The drift report end to end: a Node server with the store query-log sink on (the data
 * folder's store, flushed every second), traffic drawn from the demo's training set with one
 * feature shifted, then the admin API and the built apinode-admin binary read the log back.
 */
const BIN = fileURLToPath(new URL('../../packages/cli/bin/apinode-admin.mjs', import.meta.url));
const ADMIN = 'drift-test-admin-key-0123456789';
const KEY = 'drift-demo-key';
const RECORDS = 1200;

/** Records drawn from the training set, body_mass_g moved by 2 standard deviations. */
const sent = penguinRecords(RECORDS, 18, 2 * massSd);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '', APINODE_CLI_AUDIT: 'off' }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('drift report on traffic with one feature shifted', { timeout: 120_000 }, () => {
  let node: NodeServer;
  let target: string[];
  let dataDir: string;
  const admin = (path: string, auth = true) => fetch(`${node.url}/admin/api${path}`, { headers: auth ? { Authorization: `Basic ${btoa(`${ADMIN}:`)}` } : {} });
  const drift = async (query = 'since=1h') => (await (await admin(`/services/demo/endpoints/penguin-species/drift?${query}`)).json()) as DriftReport;

  beforeAll(async () => {
    // The bin runs the built JavaScript (as installed): build it from the current sources.
    for (const pkg of ['node', 'cli']) execFileSync(process.execPath, [fileURLToPath(new URL(`../../packages/${pkg}/build.mjs`, import.meta.url)), '--no-types'], { stdio: 'pipe' });
    dataDir = await mkdtemp(join(tmpdir(), 'apinode-drift-'));
    node = await start({ PORT: '0', APINODE_DATA_DIR: dataDir, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_FLUSH_S: '1', APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0' });
    target = ['--url', node.url, '--admin-key', ADMIN];
    for (let i = 0; i < RECORDS; i += 100) {
      const res = await fetch(`${node.url}/public/api/v1/demo/penguin-species/predict-multi`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ items: sent.slice(i, i + 100).map((features) => ({ features })), dispatch: { forcedGeneration: 'v1' } }),
      });
      expect(res.status).toBe(200);
    }
    // The sink flushes by age (1 s): wait until every record is stored.
    const deadline = Date.now() + 30_000;
    while ((await drift()).records.total < RECORDS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  });
  afterAll(() => node?.close());

  it('ranks the shifted feature first with PSI above 0.25, the others below 0.1', async () => {
    const r = await drift();
    expect(r.records).toMatchObject({ total: RECORDS, compared: RECORDS, byGeneration: { v1: RECORDS }, errors: 0 });
    expect(r.generation).toBe('v1');
    expect(r.features.map((f) => f.name)).toHaveLength(6);
    expect(r.features[0]).toMatchObject({ name: 'body_mass_g', kind: 'NUMERIC', level: 'SIGNIFICANT' });
    expect(r.features[0]!.psi).toBeGreaterThan(0.25);
    for (const f of r.features.slice(1)) expect(f.psi, f.name).toBeLessThan(0.1);
  });

  it("shows the production predictions: the classes' shares as an independent scorer of the model finds them", async () => {
    const r = await drift();
    const ref = loadReference('v1', 'penguin-species');
    const counts = new Map<string, number>();
    for (const s of sent) {
      const p = String(referenceScore(ref, s).prediction);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    expect(r.prediction).toMatchObject({ kind: 'CATEGORY', count: RECORDS });
    for (const b of r.prediction!.bins) expect(b.production, b.label).toBeCloseTo((counts.get(b.label) ?? 0) / RECORDS, 10);
  });

  it('compares what the model saw: the PSI of island is the sum over the sent records and the training counts', async () => {
    const r = await drift();
    const counts = new Map<string, number>();
    for (const s of sent) counts.set(String(s.island), (counts.get(String(s.island)) ?? 0) + 1);
    // The demo's statistics for island: Biscoe 168, Dream 124, Torgersen 52 (every penguin has one).
    const expected = [['Biscoe', 168], ['Dream', 124], ['Torgersen', 52]].reduce((sum, [c, w]) => {
      const q = (w as number) / 344;
      const p = (counts.get(c as string) ?? 0) / RECORDS;
      return sum + (p - q) * Math.log(p / q);
    }, 0);
    expect(r.features.find((f) => f.name === 'island')!.psi).toBeCloseTo(expected, 10);
  });

  it('restricts production to a generation, and answers typed errors', async () => {
    expect((await drift('since=1h&generation=v2')).records.total).toBe(0);
    expect((await drift('since=1h&generation=v1')).records.total).toBe(RECORDS);
    const status = async (path: string, auth = true) => {
      const res = await admin(path, auth);
      return { status: res.status, errorType: ((await res.json()) as { errorType?: string }).errorType };
    };
    expect(await status('/services/nope/endpoints/penguin-species/drift')).toEqual({ status: 404, errorType: 'SERVICE_NOT_FOUND' });
    expect(await status('/services/demo/endpoints/nope/drift')).toEqual({ status: 404, errorType: 'ENDPOINT_NOT_FOUND' });
    expect(await status('/services/demo/endpoints/penguin-species/drift?generation=v9')).toEqual({ status: 404, errorType: 'GENERATION_NOT_FOUND' });
    expect(await status('/services/demo/endpoints/sum/drift')).toEqual({ status: 400, errorType: 'WRONG_ENDPOINT_TYPE' });
    for (const q of ['since=yesterday', 'since=40d', 'since=1h&until=1h', 'since=2030-01-01T00:00:00Z', 'generation=../x']) {
      expect(await status(`/services/demo/endpoints/penguin-species/drift?${q}`), q).toEqual({ status: 400, errorType: 'INVALID_REQUEST' });
    }
    expect((await status('/services/demo/endpoints/penguin-species/drift', false)).status).toBe(401);
  });

  it('apinode-admin drift prints the report sorted by drift, as JSON and as text, and writes the HTML page', async () => {
    const json = await cli(['drift', 'demo', 'penguin-species', '--since', '1h', '--json', ...target]);
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout) as DriftReport;
    expect(r.features[0]!.name).toBe('body_mass_g');
    expect(r.records.total).toBe(RECORDS);
    const out = join(await mkdtemp(join(tmpdir(), 'apinode-drift-out-')), 'report.html');
    const text = await cli(['drift', 'demo', 'penguin-species', '--since', '1h', '--out', out, ...target]);
    expect(text.code, text.stderr).toBe(0);
    const rows = text.stdout.split('\n').filter((l) => /^(island|beak_|flipper_|body_|sex)/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(r.features.map((f) => f.name));
    expect(rows[0]).toMatch(/SIGNIFICANT$/);
    const html = await readFile(out, 'utf8');
    expect(html.match(/<svg class="feature-chart"/g)).toHaveLength(6);
    expect(html).not.toMatch(/<script|https?:\/\//);
    // Straight on the bucket (the node's data folder): the same admin API, in-process.
    const direct = await cli(['drift', 'demo', 'penguin-species', '--since', '1h', '--json', '--bucket', dataDir]);
    expect(direct.code, direct.stderr).toBe(0);
    expect((JSON.parse(direct.stdout) as DriftReport).features.map((f) => [f.name, f.psi])).toEqual(r.features.map((f) => [f.name, f.psi]));
    const bad = await cli(['drift', 'demo', 'nope', '--since', 'soon', ...target]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/since/);
  });
});
