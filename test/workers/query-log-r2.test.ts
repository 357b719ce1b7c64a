import { gunzipSync } from 'node:zlib';
import { queryLogLineSchema, type QueryLogLine } from '@apinode/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRecords } from '../support/demo-records.js';
import { buildWorker, startWorkerd, type Workerd } from './workerd.js';

const KEY = 'workers-query-log-key';
const cars = demoRecords(20)['car-mpg']!;

let w: Workerd;
const stdout: string[] = [];
beforeAll(async () => {
  // Age 1 s: each batch waits in the isolate, in waitUntil, then goes to R2 as one object.
  w = await startWorkerd(await buildWorker(), {
    vars: { APINODE_QUERY_LOG: 'store,stdout', APINODE_QUERY_LOG_FLUSH_S: '1', APINODE_QUERY_LOG_FLUSH_BYTES: String(64 * 1024) },
    demoKey: KEY,
    onStdout: (l) => stdout.push(l),
  });
}, 120_000);
afterAll(() => w?.close());

async function stored(): Promise<{ keys: string[]; lines: QueryLogLine[] }> {
  const keys = await w.store.list('querylog/');
  const lines: QueryLogLine[] = [];
  for (const key of keys) lines.push(...gunzipSync((await w.store.get(key))!.body).toString('utf8').trimEnd().split('\n').map((l) => queryLogLineSchema.parse(JSON.parse(l)) as QueryLogLine));
  return { keys, lines };
}

describe('the store query log on Workers (workerd, local R2)', () => {
  it('stores the lines of concurrent requests in R2 from waitUntil, batched, partitioned, gzip', async () => {
    const sent = new Map<string, unknown>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, r) => {
        const items = cars.map((features, i) => ({ features: { ...features, weight_lbs: 2000 + r * 100 + i } }));
        const res = await w.fetch('/public/api/v1/demo/car-mpg/predict-multi', { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ items }) });
        expect(res.status).toBe(200);
        const id = res.headers.get('x-request-id')!;
        items.forEach((item, i) => sent.set(`${id}/${i}`, item.features));
      }),
    );
    let got = await stored();
    for (let i = 0; got.lines.length < 200 && i < 100; i++) got = (await new Promise((r) => setTimeout(r, 100)), await stored());
    expect(got.lines).toHaveLength(200);
    // Batched: far fewer objects than requests.
    expect(got.keys.length).toBeLessThan(10);
    for (const key of got.keys) expect(key).toMatch(/^querylog\/service=demo\/endpoint=car-mpg\/date=\d{4}-\d\d-\d\d\/hour=\d\d\/[0-9a-f]{16}-\d{6}\.ndjson\.gz$/);
    for (const l of got.lines) expect(l.features).toEqual(sent.get(`${l.requestId}/${l.record}`));
    // stdout at the same time (several sinks at once).
    expect(stdout.filter((l) => l.startsWith('{"v":1')).length).toBeGreaterThanOrEqual(200);
  }, 60_000);
});
