import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import type { QueryLogLine } from '@apinode/protocol';
import { emptyReadStats, readQueryLog, type QueryLogQuery } from '../../src/observability/query-log-reader.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { FlakyStore, tempStore } from '../support/stores.js';

// Objects are written here by hand in the documented layout (docs/query-log.md), gzipped with
// node:zlib: the reader is checked against the format, not against the sink that writes it.

const line = (time: string, over: Partial<QueryLogLine> = {}): QueryLogLine => ({
  v: 1,
  time,
  requestId: `r-${time}`,
  serviceId: 'svc',
  endpointId: 'ep',
  generation: 'g1',
  action: 'predict',
  record: 0,
  caller: null,
  features: { x: 1 },
  context: null,
  result: { prediction: 'a' },
  timing: { prediction: 12 },
  status: 'ok',
  ...over,
});

const ndjson = (lines: readonly unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const key = (endpoint: string, date: string, hour: string, name: string) => `querylog/service=svc/endpoint=${endpoint}/date=${date}/hour=${hour}/${name}.ndjson.gz`;

async function collect(store: ObjectStore, q: QueryLogQuery, stats = emptyReadStats()) {
  const out: QueryLogLine[] = [];
  for await (const l of readQueryLog(store, q, stats)) out.push(l);
  return out;
}

async function seeded() {
  const { store } = await tempStore();
  const put = (k: string, lines: readonly unknown[]) => store.put(k, gzipSync(ndjson(lines)));
  await put(key('ep', '2026-12-01', '09', 'a-000000'), [line('2026-12-01T09:59:00.000Z')]);
  await put(key('ep', '2026-12-01', '10', 'a-000001'), [line('2026-12-01T10:00:00.000Z'), line('2026-12-01T10:30:00.000Z', { generation: 'g2' })]);
  // A batch filed under its flush hour holds a line of the hour before.
  await put(key('ep', '2026-12-01', '11', 'a-000002'), [line('2026-12-01T10:59:59.000Z'), line('2026-12-01T11:00:00.000Z')]);
  await put(key('other', '2026-12-01', '10', 'b-000000'), [line('2026-12-01T10:15:00.000Z', { endpointId: 'other' })]);
  await put(key('ep', '2026-11-28', '10', 'a-000000'), [line('2026-11-28T10:15:00.000Z')]);
  return store;
}

describe('readQueryLog', () => {
  it('reads the lines of the window, from the partitions around it, and only them', async () => {
    const store = await seeded();
    const stats = emptyReadStats();
    const got = await collect(store, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') }, stats);
    expect(got.map((l) => l.time)).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-01T10:30:00.000Z', '2026-12-01T10:59:59.000Z']);
    expect(stats).toEqual({ objects: 3, lines: 3, skippedLines: 0, unreadableObjects: 0 });
  });

  it('filters by generation, and reads every endpoint of the service when none is named', async () => {
    const store = await seeded();
    const window = { since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') };
    expect((await collect(store, { serviceId: 'svc', endpointId: 'ep', generation: 'g2', ...window })).map((l) => l.time)).toEqual(['2026-12-01T10:30:00.000Z']);
    const all = await collect(store, { serviceId: 'svc', ...window });
    expect(all.map((l) => `${l.endpointId}@${l.time}`).sort()).toEqual(['ep@2026-12-01T10:00:00.000Z', 'ep@2026-12-01T10:30:00.000Z', 'ep@2026-12-01T10:59:59.000Z', 'other@2026-12-01T10:15:00.000Z']);
  });

  it('lists hour by hour for a short window, and the endpoint once for a long one, with the same lines', async () => {
    const store = await seeded();
    const lists: string[] = [];
    const counting: ObjectStore = Object.assign(Object.create(store) as ObjectStore, {
      list: (p: string) => (lists.push(p), store.list(p)),
    });
    await collect(counting, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') });
    expect(lists).toEqual(['09', '10', '11'].map((h) => `querylog/service=svc/endpoint=ep/date=2026-12-01/hour=${h}/`));
    lists.length = 0;
    const long = await collect(counting, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-12-02T00:00:00Z') });
    expect(lists).toEqual(['querylog/service=svc/endpoint=ep/']);
    expect(long.map((l) => l.time)).toEqual(['2026-11-28T10:15:00.000Z', '2026-12-01T09:59:00.000Z', '2026-12-01T10:00:00.000Z', '2026-12-01T10:30:00.000Z', '2026-12-01T10:59:59.000Z', '2026-12-01T11:00:00.000Z']);
  });

  it('skips and counts lines that are not query-log lines, and objects that do not inflate (keeping the lines before the damage)', async () => {
    const { store } = await tempStore();
    const good = line('2026-12-01T10:05:00.000Z');
    await store.put(key('ep', '2026-12-01', '10', 'a-000000'), gzipSync(ndjson([good, '{not json', { ...good, v: 2 }, { ...good, status: 'maybe' }, '', good])));
    await store.put(key('ep', '2026-12-01', '10', 'a-000001'), new TextEncoder().encode('not gzip at all'));
    const truncated = gzipSync(ndjson([good]));
    await store.put(key('ep', '2026-12-01', '10', 'a-000002'), truncated.subarray(0, truncated.length - 6));
    await store.put('querylog/service=svc/endpoint=ep/date=2026-12-01/stray.ndjson.gz', gzipSync(ndjson([good])));
    const stats = emptyReadStats();
    const got = await collect(store, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') }, stats);
    // Two good lines of the first object, and the one line the truncated object holds before its missing trailer.
    expect(got).toHaveLength(3);
    expect(stats).toEqual({ objects: 3, lines: 3, skippedLines: 3, unreadableObjects: 2 });
  });

  it('reads every member of a multi-member gzip object', async () => {
    const { store } = await tempStore();
    const a = gzipSync(ndjson([line('2026-12-01T10:01:00.000Z')]));
    const b = gzipSync(ndjson([line('2026-12-01T10:02:00.000Z')]));
    await store.put(key('ep', '2026-12-01', '10', 'a-000000'), Buffer.concat([a, b]));
    const got = await collect(store, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') });
    expect(got.map((l) => l.time)).toEqual(['2026-12-01T10:01:00.000Z', '2026-12-01T10:02:00.000Z']);
  });

  it('answers nothing for an empty window, and lets a store failure through', async () => {
    const store = await seeded();
    const at = new Date('2026-12-01T10:00:00Z');
    expect(await collect(store, { serviceId: 'svc', endpointId: 'ep', since: at, until: at })).toEqual([]);
    const flaky = new FlakyStore(store);
    flaky.down = true;
    await expect(collect(flaky, { serviceId: 'svc', endpointId: 'ep', since: new Date(at.getTime() - 3_600_000), until: at })).rejects.toMatchObject({ status: 503 });
  });
});

describe('readQueryLog on hostile objects', () => {
  it('skips an object that inflates past its bound without holding it whole, and a line with no end', async () => {
    const { store } = await tempStore();
    // 65 MiB of one byte, no newline: about 65 KB gzipped, past the 64 MiB an object may inflate to.
    await store.put(key('ep', '2026-12-01', '10', 'a-000000'), gzipSync(Buffer.alloc(65 * 1024 * 1024, 0x61)));
    // A 9 MiB line (past the 8 Mi characters a line may have), then a good one.
    const long = Buffer.concat([Buffer.alloc(9 * 1024 * 1024, 0x62), Buffer.from('\n' + ndjson([line('2026-12-01T10:06:00.000Z')]))]);
    await store.put(key('ep', '2026-12-01', '10', 'a-000001'), gzipSync(long));
    await store.put(key('ep', '2026-12-01', '10', 'a-000002'), gzipSync(ndjson([line('2026-12-01T10:05:00.000Z')])));
    const stats = emptyReadStats();
    const got = await collect(store, { serviceId: 'svc', endpointId: 'ep', since: new Date('2026-12-01T10:00:00Z'), until: new Date('2026-12-01T11:00:00Z') }, stats);
    expect(got.map((l) => l.time).sort()).toEqual(['2026-12-01T10:05:00.000Z', '2026-12-01T10:06:00.000Z']);
    expect(stats).toEqual({ objects: 3, lines: 2, skippedLines: 1, unreadableObjects: 1 });
  });
});
