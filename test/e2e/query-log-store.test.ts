import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { queryLogLineSchema, type QueryLogLine } from '@apinode/protocol';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { queryLogSinks } from '../../src/observability/query-log-sinks.js';
import { discardQueryLog } from '../../src/observability/query-log.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { demoRecords } from '../support/demo-records.js';
import { ortRuntime } from '../support/node-app.js';
import { FlakyStore, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const KEY = 'query-log-store-key';
const ADMIN = 'query-log-admin-key-0123456789';
const auth = { Authorization: `Bearer ${KEY}` };
const cars = demoRecords(40)['car-mpg']!;

/** The app with the store sink writing to its own folder (APINODE_QUERY_LOG_DIR), as node.ts builds it. */
async function setup(env: Record<string, string>, logStore?: (s: ObjectStore) => ObjectStore) {
  const { store } = await tempStore();
  await seedDemo(store, KEY);
  const { store: folder } = await tempStore();
  const logs = logStore ? logStore(folder) : folder;
  const config = parseConfig({ APINODE_QUERY_LOG: 'store', APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, ...env });
  const queryLog = queryLogSinks(config, { stdout: () => discardQueryLog, store: () => logs, timers: true, log: silentLogger });
  expect(queryLog.stats().map((s) => s.sink)).toEqual(config.queryLog.filter((s) => s !== 'stdout'));
  const { app } = createApp({ store, models: ortRuntime, log: silentLogger, queryLog }, config);
  const post = async (path: string, body: unknown) => {
    const res = await app.request(`/public/api/v1/demo/${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json, requestId: res.headers.get('x-request-id')! };
  };
  const metrics = async () => (await app.request('/admin/api/metrics?format=prometheus', { headers: { Authorization: `Bearer ${ADMIN}` } })).text();
  return { queryLog, folder, post, metrics };
}

/** Every line stored, read with node's zlib; each object's key checked against its lines' own partition. */
async function storedLines(store: ObjectStore): Promise<{ keys: string[]; lines: QueryLogLine[] }> {
  const keys = await store.list('querylog/');
  const lines: QueryLogLine[] = [];
  for (const key of keys) {
    const part = gunzipSync((await store.get(key))!.body).toString('utf8').trimEnd().split('\n').map((l) => queryLogLineSchema.parse(JSON.parse(l)) as QueryLogLine);
    for (const l of part) {
      const [date, hour] = [l.time.slice(0, 10), l.time.slice(11, 13)];
      expect(key.startsWith(`querylog/service=${l.serviceId}/endpoint=${l.endpointId}/date=${date}/hour=${hour}/`), key).toBe(true);
    }
    lines.push(...part);
  }
  return { keys, lines };
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name}\\{sink="store"\\} (\\d+)$`, 'm').exec(text)?.[1]);

describe('the store query log, through the app', () => {
  it('loses nothing across 10,000 predictions: every record sent is stored once, as sent, with its result', async () => {
    const t = await setup({ APINODE_QUERY_LOG_FLUSH_BYTES: String(256 * 1024) });
    const sent = new Map<string, { features: unknown; result: unknown }>();
    for (let r = 0; r < 100; r++) {
      // Every record distinct: a weight no other record has.
      const items = Array.from({ length: 100 }, (_, i) => ({ features: { ...cars[i % cars.length], weight_lbs: 2000 + r * 100 + i } }));
      const res = await t.post('car-mpg/predict-multi', { items });
      expect(res.status).toBe(200);
      items.forEach((item, i) => sent.set(`${res.requestId}/${i}`, { features: item.features, result: res.body.results[i] }));
    }
    await t.queryLog.flush();
    const { keys, lines } = await storedLines(t.folder);
    expect(lines).toHaveLength(10_000);
    expect(keys.length).toBeGreaterThan(5); // flushed by size along the way, not only at the end
    for (const l of lines) {
      const mine = sent.get(`${l.requestId}/${l.record}`);
      expect(mine, `${l.requestId}/${l.record}`).toBeDefined();
      expect(l).toMatchObject({ v: 1, action: 'predict-multi', status: 'ok', serviceId: 'demo', endpointId: 'car-mpg', caller: 'demo', features: mine!.features, result: mine!.result });
      sent.delete(`${l.requestId}/${l.record}`);
    }
    expect(sent.size).toBe(0);
    const text = await t.metrics();
    expect(metric(text, 'apinode_querylog_lines_total')).toBe(10_000);
    expect(metric(text, 'apinode_querylog_dropped_total')).toBe(0);
  }, 120_000);

  it('writes one error line for a request that failed once its generation was known, and none before', async () => {
    const t = await setup({});
    const bad = await t.post('car-mpg/predict', { features: { weight_lbs: 'heavy', cylinders: 'many' }, dispatch: { forcedGeneration: 'v1' } });
    const missing = await t.post('no-such-endpoint/predict', { features: {} });
    const unknownService = await (async () => t.post('../nope/x/predict', { features: {} }))();
    await t.queryLog.flush();
    const { lines } = await storedLines(t.folder);
    const failed = lines.filter((l) => l.status === 'error');
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(failed.find((l) => l.requestId === bad.requestId)).toMatchObject({
      generation: 'v1',
      endpointId: 'car-mpg',
      action: 'predict',
      features: null,
      result: null,
      error: { type: bad.body.errorType, httpStatus: bad.status },
    });
    expect(missing.status).toBe(404);
    expect(unknownService.status).toBe(404);
    expect(lines.filter((l) => l.requestId === missing.requestId || l.requestId === unknownService.requestId)).toEqual([]);
  });

  it('keeps answering while the store is down: memory bounded, drops counted in /metrics', async () => {
    let flaky!: FlakyStore;
    const bufferBytes = 64 * 1024;
    const t = await setup({ APINODE_QUERY_LOG_FLUSH_BYTES: '16384', APINODE_QUERY_LOG_BUFFER_BYTES: String(bufferBytes) }, (s) => (flaky = new FlakyStore(s)));
    flaky.down = true;
    let maxBuffered = 0;
    for (let r = 0; r < 30; r++) {
      const items = cars.slice(0, 20).map((features) => ({ features }));
      const res = await t.post('car-mpg/predict-multi', { items });
      expect(res.status).toBe(200);
      maxBuffered = Math.max(maxBuffered, Number(/^apinode_querylog_buffered_bytes\{sink="store"\} (\d+)$/m.exec(await t.metrics())?.[1]));
    }
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(bufferBytes);
    await t.queryLog.flush();
    const text = await t.metrics();
    expect(metric(text, 'apinode_querylog_dropped_total')).toBe(600);
    expect(metric(text, 'apinode_querylog_lines_total')).toBe(0);
    expect(text).toMatch(/^apinode_querylog_buffered_bytes\{sink="store"\} 0$/m);
  }, 60_000);

  it('keeps answering while the collector refuses, alongside a working store sink: drops counted per sink', async () => {
    let posts = 0;
    const collector = createServer((req, res) => {
      posts++;
      req.resume().on('end', () => res.writeHead(503).end());
    }).listen(0, '127.0.0.1');
    await once(collector, 'listening');
    try {
      const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/ingest`;
      const t = await setup({ APINODE_QUERY_LOG: 'store,http', APINODE_QUERY_LOG_URL: url, APINODE_QUERY_LOG_SECRET: 'collector-secret', APINODE_QUERY_LOG_FLUSH_BYTES: '4096' });
      for (let r = 0; r < 5; r++) expect((await t.post('car-mpg/predict-multi', { items: cars.slice(0, 10).map((features) => ({ features })) })).status).toBe(200);
      await t.queryLog.flush();
      const text = await t.metrics();
      expect(Number(/^apinode_querylog_dropped_total\{sink="http"\} (\d+)$/m.exec(text)?.[1])).toBe(50);
      expect(metric(text, 'apinode_querylog_lines_total')).toBe(50);
      expect((await storedLines(t.folder)).lines).toHaveLength(50);
      expect(posts).toBeGreaterThan(1); // retried
    } finally {
      collector.close();
    }
  }, 60_000);
});
