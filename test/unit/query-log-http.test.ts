import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QueryLogLine } from '@apinode/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { httpQueryLog } from '../../src/observability/query-log-http.js';

const line = (i: number): QueryLogLine => ({
  v: 1,
  time: new Date(Date.UTC(2026, 11, 2, 5, 0, i)).toISOString(),
  requestId: `r${i}`,
  serviceId: 's',
  endpointId: 'e',
  generation: 'g',
  action: 'predict',
  record: 0,
  caller: 'alice',
  features: { x: i },
  context: null,
  result: { prediction: i },
  timing: {},
  status: 'ok',
});

interface Received {
  method: string;
  auth: string | undefined;
  type: string | undefined;
  body: string;
}

/** A collector on loopback: answers each POST with the next status of `answers` (then 200), keeps what it accepted. */
async function collector(answers: number[] = []) {
  const received: Received[] = [];
  const accepted: QueryLogLine[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method!, auth: req.headers.authorization, type: req.headers['content-type'], body });
      const status = answers.shift() ?? 200;
      if (status === 200) accepted.push(...body.trimEnd().split('\n').map((l) => JSON.parse(l) as QueryLogLine));
      res.writeHead(status, status === 302 ? { Location: 'http://127.0.0.1:9/elsewhere' } : {}).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  servers.push(server);
  return { url, received, accepted, server };
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

const base = { flushBytes: 1 << 20, flushMs: 60_000, bufferBytes: 1 << 20, timers: true, log: silentLogger, secret: 's3cret-token', backoffMs: 10, maxBackoffMs: 50 };

describe('the http sink', () => {
  it('POSTs each batch as NDJSON with the bearer secret', async () => {
    const c = await collector();
    const sink = httpQueryLog({ ...base, url: c.url });
    sink.write([line(0), line(1)]);
    sink.write([line(2)]);
    await sink.flush();
    expect(c.received).toHaveLength(1);
    expect(c.received[0]).toMatchObject({ method: 'POST', auth: 'Bearer s3cret-token', type: 'application/x-ndjson' });
    expect(c.accepted).toEqual([line(0), line(1), line(2)]);
    expect(sink.stats()).toEqual([{ sink: 'http', delivered: 3, dropped: 0, bufferedBytes: 0 }]);
  });

  it('retries 503, 429 and 408 with backoff until the collector takes the batch', async () => {
    const c = await collector([503, 429, 408]);
    const sink = httpQueryLog({ ...base, url: c.url, attempts: 5 });
    sink.write([line(0)]);
    await sink.flush();
    expect(c.received).toHaveLength(4);
    expect(c.accepted).toEqual([line(0)]);
    expect(sink.stats()[0]).toMatchObject({ delivered: 1, dropped: 0 });
  });

  it('gives up after its attempts, counting the lines dropped', async () => {
    const c = await collector([500, 500, 500, 500]);
    const sink = httpQueryLog({ ...base, url: c.url, attempts: 3 });
    sink.write([line(0), line(1)]);
    await sink.flush();
    expect(c.received).toHaveLength(3);
    expect(sink.stats()[0]).toMatchObject({ delivered: 0, dropped: 2, bufferedBytes: 0 });
  });

  it('does not retry a refusal (401) and does not follow a redirect with the secret', async () => {
    const c = await collector([401, 302]);
    const sink = httpQueryLog({ ...base, url: c.url, attempts: 5 });
    sink.write([line(0)]);
    await sink.flush();
    sink.write([line(1)]);
    await sink.flush();
    expect(c.received).toHaveLength(2);
    expect(sink.stats()[0]).toMatchObject({ delivered: 0, dropped: 2 });
  });

  it('when the collector is down: write never waits, memory stays bounded, drops are counted', async () => {
    const c = await collector();
    c.server.close();
    await once(c.server, 'close');
    const one = Buffer.byteLength(JSON.stringify(line(0))) + 1;
    const sink = httpQueryLog({ ...base, url: c.url, attempts: 2, flushBytes: one * 4, bufferBytes: one * 10 });
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) sink.write([line(i % 10)]);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(sink.stats()[0]!.bufferedBytes).toBeLessThanOrEqual(one * 10);
    expect(sink.stats()[0]!.dropped).toBe(40);
    await sink.flush();
    expect(sink.stats()[0]).toEqual({ sink: 'http', delivered: 0, dropped: 50, bufferedBytes: 0 });
  });
});
