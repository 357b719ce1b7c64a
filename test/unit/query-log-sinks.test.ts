import { gunzipSync } from 'node:zlib';
import { queryLogLineSchema, type QueryLogLine } from '@apinode/protocol';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { Logger } from '../../src/observability/logger.js';
import { storeQueryLog } from '../../src/observability/query-log-store.js';
import type { QueryLogSink } from '../../src/observability/query-log.js';
import { FlakyStore, tempStore } from '../support/stores.js';

const line = (i: number, over: Partial<QueryLogLine> = {}): QueryLogLine => ({
  v: 1,
  time: '2026-12-02T05:00:00.000Z',
  requestId: `r${String(i).padStart(4, '0')}`,
  serviceId: 's',
  endpointId: 'e',
  generation: 'g',
  action: 'predict',
  record: 0,
  caller: null,
  features: { i: String(i).padStart(4, '0'), text: 'é😀' },
  context: null,
  result: { prediction: i % 2 ? 'B' : 'A' },
  timing: { wait: 0 },
  status: 'ok',
  ...over,
});

/** Every stored object: key -> its lines, gunzipped by node's zlib (not the sink's own code). */
async function stored(store: { list(p: string): Promise<string[]>; get(k: string): Promise<{ body: Uint8Array } | null> }, prefix = 'querylog/') {
  const out = new Map<string, QueryLogLine[]>();
  for (const key of await store.list(prefix)) {
    const text = gunzipSync((await store.get(key))!.body).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    out.set(key, text.trimEnd().split('\n').map((l) => queryLogLineSchema.parse(JSON.parse(l)) as QueryLogLine));
  }
  return out;
}

const warnings: unknown[] = [];
const log: Logger = { info: () => undefined, warn: (msg, f) => void warnings.push({ msg, ...f }), error: () => undefined };
const base = { flushBytes: 1 << 20, flushMs: 60_000, bufferBytes: 1 << 24, timers: true, log, instance: 'inst', backoffMs: 1, maxBackoffMs: 5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (s: QueryLogSink) => s.stats()[0]!;

describe('the store sink', () => {
  it('writes one gzip NDJSON object per service, endpoint and UTC hour, in hive-style keys', async () => {
    const { store } = await tempStore();
    const sink = storeQueryLog(store, base);
    const lines = [line(0), line(1, { endpointId: 'other' }), line(2, { time: '2026-12-02T06:00:00.000Z' }), line(3), line(4, { serviceId: 't', time: '2026-12-01T23:59:59.999Z' })];
    sink.write(lines);
    await sink.flush();
    const objects = await stored(store);
    expect([...objects.keys()].sort()).toEqual([
      'querylog/service=s/endpoint=e/date=2026-12-02/hour=05/inst-000000.ndjson.gz',
      'querylog/service=s/endpoint=e/date=2026-12-02/hour=06/inst-000002.ndjson.gz',
      'querylog/service=s/endpoint=other/date=2026-12-02/hour=05/inst-000001.ndjson.gz',
      'querylog/service=t/endpoint=e/date=2026-12-01/hour=23/inst-000003.ndjson.gz',
    ]);
    expect(objects.get('querylog/service=s/endpoint=e/date=2026-12-02/hour=05/inst-000000.ndjson.gz')).toEqual([lines[0], lines[3]]);
    expect(stats(sink)).toEqual({ sink: 'store', delivered: 5, dropped: 0, bufferedBytes: 0 });
  });

  it('delivers a batch as soon as it reaches the flush size, without a flush', async () => {
    const { store } = await tempStore();
    const one = Buffer.byteLength(JSON.stringify(line(0))) + 1;
    const sink = storeQueryLog(store, { ...base, flushBytes: one * 10 });
    for (let i = 0; i < 25; i++) sink.write([line(i)]);
    // settle would wait for the open batch's age (a minute): watch the store instead.
    let objects = await stored(store);
    for (let tries = 0; objects.size < 2 && tries < 100; tries++) objects = (await sleep(20), await stored(store));
    expect([...objects.values()].map((l) => l.length)).toEqual([10, 10]);
    expect(stats(sink).bufferedBytes).toBeGreaterThan(0); // the last 5 wait for their age
    await sink.flush();
    expect([...(await stored(store)).values()].flat().map((l) => l.requestId)).toEqual(Array.from({ length: 25 }, (_, i) => line(i).requestId));
  });

  it('with timers, delivers a batch once its first line is flushMs old; settle waits for it', async () => {
    const { store } = await tempStore();
    const sink = storeQueryLog(store, { ...base, flushMs: 150 });
    const t0 = Date.now();
    sink.write([line(0)]);
    await sleep(50);
    sink.write([line(1)]);
    expect((await stored(store)).size).toBe(0);
    await sink.settle();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect([...(await stored(store)).values()]).toEqual([[line(0), line(1)]]);
  });

  it('without timers (Lambda), settle delivers only a batch that is due, and keeps the rest', async () => {
    const { store } = await tempStore();
    let now = 1000;
    const sink = storeQueryLog(store, { ...base, timers: false, flushMs: 30_000, now: () => now });
    sink.write([line(0)]);
    await sink.settle();
    expect((await stored(store)).size).toBe(0);
    now += 30_000;
    sink.write([line(1)]);
    await sink.settle();
    expect([...(await stored(store)).values()]).toEqual([[line(0), line(1)]]);
  });

  it('when the store is down: write never throws, memory stays under the buffer, drops are counted, and it recovers', async () => {
    const { store: inner } = await tempStore();
    const store = new FlakyStore(inner);
    store.down = true;
    const one = Buffer.byteLength(JSON.stringify(line(0))) + 1;
    const sink = storeQueryLog(store, { ...base, flushBytes: one * 10, bufferBytes: one * 35, attempts: 3 });
    for (let i = 0; i < 100; i++) {
      expect(() => sink.write([line(i)])).not.toThrow();
      expect(stats(sink).bufferedBytes).toBeLessThanOrEqual(one * 35);
    }
    // 30 lines fit (3 sealed batches in flight, retrying), the next 5 in the open batch, the other 65 are dropped at once.
    expect(stats(sink).dropped).toBe(65);
    await sink.flush();
    expect(stats(sink)).toEqual({ sink: 'store', delivered: 0, dropped: 100, bufferedBytes: 0 });
    expect(warnings.some((w) => (w as { sink?: string }).sink === 'store')).toBe(true);

    store.down = false;
    sink.write([line(100)]);
    await sink.flush();
    expect(stats(sink)).toMatchObject({ delivered: 1, dropped: 100 });
    expect([...(await stored(inner)).values()].flat()).toEqual([line(100)]);
  });

  it('retries a failed write with backoff and stores the batch once', async () => {
    const { store: inner } = await tempStore();
    const store = new FlakyStore(inner);
    store.down = true;
    const sink = storeQueryLog(store, { ...base, attempts: 5, backoffMs: 20, maxBackoffMs: 1000, random: () => 1 });
    sink.write([line(0), line(1)]);
    const flushed = sink.flush();
    await sleep(15);
    store.down = false;
    await flushed;
    const objects = await stored(inner);
    expect([...objects.values()]).toEqual([[line(0), line(1)]]);
    expect(stats(sink)).toMatchObject({ delivered: 2, dropped: 0 });
  });

  it('an attempt that never answers times out instead of holding the buffer forever', async () => {
    const hanging = { put: () => new Promise<string>(() => undefined), get: async () => null, getIfChanged: async () => null, list: async () => [], delete: async () => undefined };
    const sink = storeQueryLog(hanging, { ...base, attempts: 2, attemptTimeoutMs: 30 });
    sink.write([line(0)]);
    await sink.flush();
    expect(stats(sink)).toEqual({ sink: 'store', delivered: 0, dropped: 1, bufferedBytes: 0 });
  });
});

describe('APINODE_QUERY_LOG', () => {
  it('names one sink, several, or none', () => {
    expect(parseConfig({}).queryLog).toEqual(['stdout']);
    expect(parseConfig({ APINODE_QUERY_LOG: 'stdout, store' }).queryLog).toEqual(['stdout', 'store']);
    expect(parseConfig({ APINODE_QUERY_LOG: 'off' }).queryLog).toEqual([]);
    expect(parseConfig({ APINODE_QUERY_LOG: 'store,http', APINODE_QUERY_LOG_URL: 'https://collector.example/q' }).queryLog).toEqual(['store', 'http']);
  });

  it('refuses an unknown sink, http without a URL, a URL that is not http(s), and a prefix that is not a folder', () => {
    expect(() => parseConfig({ APINODE_QUERY_LOG: 'stdout,kafka' })).toThrow(/APINODE_QUERY_LOG/);
    expect(() => parseConfig({ APINODE_QUERY_LOG: 'http' })).toThrow(/APINODE_QUERY_LOG_URL: required/);
    expect(() => parseConfig({ APINODE_QUERY_LOG: 'http', APINODE_QUERY_LOG_URL: 'file:///etc/passwd' })).toThrow(/APINODE_QUERY_LOG_URL/);
    expect(() => parseConfig({ APINODE_QUERY_LOG_PREFIX: '../x' })).toThrow(/APINODE_QUERY_LOG_PREFIX/);
    expect(parseConfig({ APINODE_QUERY_LOG_PREFIX: 'logs/q/' }).queryLogPrefix).toBe('logs/q/');
  });
});
