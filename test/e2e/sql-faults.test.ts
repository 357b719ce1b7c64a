import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { ApiError } from '../../src/errors.js';
import type { Logger } from '../../src/observability/logger.js';
import { NeonSqlClient } from '../../src/sql/neon-sql-client.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import { CLIENT_MARGIN_MS } from '../../src/sql/sql-client.js';
import { testApp } from '../support/node-app.js';
import { silentTcpServer, silentWebSocketServer, startPgOverWebSocket, wsToTcpBridge } from '../support/pg-ws-bridge.js';
import { json, tempStore } from '../support/stores.js';

const URL = 'postgresql://apinode:s3cret-password@db.internal:5432/app';
const TIMEOUT_MS = 400;
/** Slack for a loaded CI machine beyond the documented margin. */
const SLACK_MS = 1000;

function capturingLogger(): Logger & { lines: { msg: string; fields: Record<string, unknown> }[] } {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const at = (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ msg, fields });
  return { lines, info: at, warn: at, error: at };
}

/** Points the Neon driver (a global configuration) at a WebSocket proxy on loopback. */
function viaProxy(wsProxy: string): void {
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.wsProxy = () => wsProxy;
}

/** How long a call took to fail, and with what. */
async function failure(call: Promise<unknown>): Promise<{ ms: number; error: ApiError }> {
  const from = performance.now();
  const error = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return { ms: performance.now() - from, error: error as ApiError };
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const perCall of [false, true]) {
  const mode = perCall ? 'a connection per call (Workers)' : 'pooled connections (Node, Lambda)';

  describe(`a database that accepts the connection and never answers, with ${mode}`, () => {
    it('fails after timeoutMs plus a small margin with 503, behind a WebSocket proxy (websockify) to a silent TCP server', async () => {
      const tcp = await silentTcpServer();
      const bridge = await wsToTcpBridge('127.0.0.1', tcp.port);
      viaProxy(bridge.address);
      const log = capturingLogger();
      const client = new NeonSqlClient(URL, 'default', log, { connectionPerCall: perCall });
      try {
        const { ms, error } = await failure(client.run([{ text: 'SELECT 1', values: [] }], TIMEOUT_MS));
        console.log(`silent TCP server behind a WebSocket proxy, ${mode}: failed after ${Math.round(ms)} ms (timeoutMs ${TIMEOUT_MS})`);
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
        expect(ms).toBeLessThan(TIMEOUT_MS + CLIENT_MARGIN_MS + SLACK_MS);
        expect(error.status).toBe(503);
        expect(error.errorType).toBe('SQL_UNAVAILABLE');
        expect(JSON.stringify(error.toBody())).not.toContain('s3cret');
        expect(tcp.accepted()).toBe(1);
        expect(log.lines.some((l) => l.msg.includes('no answer in time') && l.fields.phase === 'connect')).toBe(true);
        if (perCall) {
          // Its own connection is closed at once, not left hanging.
          await settle(300);
          expect(bridge.connections.open).toBe(0);
        }
      } finally {
        // The servers first: the pool's pending attempt then fails at once instead of at its 5 s connection timeout.
        await bridge.close();
        await tcp.close();
        await client.close().catch(() => undefined);
      }
    });

    it('fails after timeoutMs plus a small margin with 503, on a WebSocket server that accepts and stays silent', async () => {
      const ws = await silentWebSocketServer();
      viaProxy(ws.wsProxy);
      const client = new NeonSqlClient(URL, 'default', capturingLogger(), { connectionPerCall: perCall });
      try {
        const { ms, error } = await failure(client.run([{ text: 'SELECT 1', values: [] }], TIMEOUT_MS));
        console.log(`silent WebSocket server, ${mode}: failed after ${Math.round(ms)} ms (timeoutMs ${TIMEOUT_MS})`);
        expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
        expect(ms).toBeLessThan(TIMEOUT_MS + CLIENT_MARGIN_MS + SLACK_MS);
        expect(error.toBody()).toMatchObject({ errorType: 'SQL_UNAVAILABLE', detailedMessage: `no answer within ${TIMEOUT_MS + CLIENT_MARGIN_MS} ms` });
        if (perCall) {
          await settle(300);
          expect(ws.open()).toBe(0);
        }
      } finally {
        await ws.close();
        await client.close().catch(() => undefined);
      }
    });
  });
}

describe('a database that stops answering in the middle of a call', () => {
  let db: PGlite;
  let server: Awaited<ReturnType<typeof startPgOverWebSocket>>;
  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec('CREATE TABLE notes (txt text)');
    server = await startPgOverWebSocket(db);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await db?.close();
  });

  it('fails after timeoutMs with 503 SQL_TIMEOUT, and discards the connection instead of pooling it', async () => {
    viaProxy(server.wsProxy);
    const client = new NeonSqlClient(URL, 'default', capturingLogger(), { maxConnections: 1 });
    try {
      await client.run([{ text: 'SELECT 1', values: [] }], 5000); // a warm pooled connection
      const before = server.bridge.connections.opened;
      server.bridge.stall(true);
      const { ms, error } = await failure(client.run([{ text: "INSERT INTO notes VALUES ('lost')", values: [] }], TIMEOUT_MS));
      console.log(`database silent mid-call (pooled): failed after ${Math.round(ms)} ms (timeoutMs ${TIMEOUT_MS})`);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(ms).toBeLessThan(TIMEOUT_MS + CLIENT_MARGIN_MS + SLACK_MS);
      expect(error.toBody()).toMatchObject({ errorType: 'SQL_TIMEOUT', detailedMessage: `no answer within ${TIMEOUT_MS + CLIENT_MARGIN_MS} ms` });
      server.bridge.stall(false);
      // The pool's only slot holds a fresh connection: the silent one was destroyed.
      const [answer] = await client.run([{ text: 'SELECT count(*) FROM notes', values: [] }], 5000);
      expect(answer!.rows).toEqual([['0']]);
      expect(server.bridge.connections.opened).toBe(before + 1);
      await settle(200);
      expect(server.bridge.connections.open).toBe(1);
    } finally {
      server.bridge.stall(false);
      await client.close().catch(() => undefined);
    }
  });

  it("answers the HTTP request after the endpoint's own timeoutMs, with a 503 that shows no connection string", async () => {
    viaProxy(server.wsProxy);
    const client = new NeonSqlClient(URL, 'default', capturingLogger(), { maxConnections: 1 });
    const { store } = await tempStore();
    await store.put('services/s/generations/g1/manifest.json', json({
      formatVersion: 1, generation: 'g1', createdAt: '2026-11-01T00:00:00Z',
      endpoints: [{ id: 'slow', type: 'SQL_QUERY', statements: ['SELECT count(*) FROM notes'], timeoutMs: 600 }],
    }));
    await store.put('services/s/service.json', json({ serviceId: 's', enabled: true, auth: { method: 'PUBLIC' }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
    const { app } = testApp(store, {}, { sql: (n) => (n === 'default' ? client : undefined) });
    try {
      expect((await app.request('/public/api/v1/s/slow/query', { method: 'POST', body: '{}' })).status).toBe(200);
      server.bridge.stall(true);
      const from = performance.now();
      const res = await app.request('/public/api/v1/s/slow/query', { method: 'POST', body: '{}' });
      const ms = performance.now() - from;
      console.log(`HTTP query on a silent database: answered ${res.status} after ${Math.round(ms)} ms (endpoint timeoutMs 600)`);
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toMatchObject({ errorType: 'SQL_TIMEOUT' });
      expect(body).not.toMatch(/postgres(ql)?:\/\/|s3cret|db\.internal/);
      expect(ms).toBeGreaterThanOrEqual(600);
      expect(ms).toBeLessThan(600 + CLIENT_MARGIN_MS + SLACK_MS);
    } finally {
      server.bridge.stall(false);
      await client.close().catch(() => undefined);
    }
  });
});

describe('a refused database connection', () => {
  it('is logged with its message and code, never "[object Object]", and answered without either', async () => {
    const tcp = await silentTcpServer();
    const port = tcp.port;
    await tcp.close(); // nothing listens there now
    for (const refusal of ['the WebSocket proxy', 'the database behind the proxy']) {
      const bridge = refusal === 'the database behind the proxy' ? await wsToTcpBridge('127.0.0.1', port) : undefined;
      viaProxy(bridge?.address ?? `127.0.0.1:${port}/`);
      const log = capturingLogger();
      const client = new NeonSqlClient(URL, 'default', log);
      try {
        const { error } = await failure(client.run([{ text: 'SELECT 1', values: [] }], 5000));
        expect(error.status).toBe(503);
        expect(JSON.stringify(error.toBody())).not.toMatch(/ECONNREFUSED|s3cret|postgres(ql)?:\/\/|terminated/);
        const logged = log.lines.find((l) => l.msg === 'sql error')!;
        expect(logged.fields.error).not.toContain('[object');
        expect(String(logged.fields.error)).toMatch(refusal === 'the WebSocket proxy' ? /ECONNREFUSED/ : /terminated/i);
        if (refusal === 'the WebSocket proxy') expect(logged.fields.code).toBe('ECONNREFUSED');
        expect(JSON.stringify(log.lines)).not.toContain('s3cret');
      } finally {
        await client.close().catch(() => undefined);
        await bridge?.close();
      }
    }
  });
});

describe('PGlite, where a call waits its turn', () => {
  it('fails a call still queued at its deadline, and its statements never run or commit', async () => {
    const db = await PGlite.create();
    try {
      await db.exec('CREATE TABLE notes (txt text)');
      const client = new PgliteSqlClient(db, 'default', capturingLogger());
      let release!: () => void;
      const holder = db.transaction(() => new Promise<void>((r) => (release = r)));
      const { ms, error } = await failure(client.run([{ text: "INSERT INTO notes VALUES ('late')", values: [] }], TIMEOUT_MS));
      expect(ms).toBeLessThan(TIMEOUT_MS + CLIENT_MARGIN_MS + SLACK_MS);
      expect(error.status).toBe(503);
      release();
      await holder;
      await settle(50);
      expect((await db.query('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });
});
