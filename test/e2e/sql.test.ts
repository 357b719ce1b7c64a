import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { loadReference, referenceScore } from '../../examples/reference-scorer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { seedDemoDatabase } from '../../src/runtime/node-demo-sql.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { NeonSqlClient } from '../../src/sql/neon-sql-client.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import type { SqlClient } from '../../src/sql/sql-client.js';
import { testApp } from '../support/node-app.js';
import { startPgOverWebSocket } from '../support/pg-ws-bridge.js';
import { json, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const KEY = 'sql-key';
const CARS = JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url)), 'utf8')) as Json[];

/** The most recent row of a car name, computed from the data file, independently of SQL. */
const latest = (name: string): Json | undefined => CARS.filter((c) => c.Name === name).sort((a, b) => b.Year.localeCompare(a.Year))[0];

const SETUP = `CREATE TABLE notes (id serial PRIMARY KEY, txt text NOT NULL);`;

/** A test service with only data endpoints: no models, just SQL. */
const sqlService = {
  formatVersion: 1,
  generation: 'g1',
  createdAt: '2026-11-01T00:00:00Z',
  endpoints: [
    { id: 'multi', type: 'SQL_QUERY', parameters: [{ name: 'txt', type: 'text' }], statements: ['INSERT INTO notes(txt) VALUES (:txt)', 'SELECT count(*) AS n, max(txt) AS last, NULL::text AS nothing FROM notes WHERE txt = :txt'] },
    { id: 'capped', type: 'SQL_QUERY', statements: ['SELECT name FROM cars ORDER BY name, year'], maxRows: 5 },
    { id: 'broken', type: 'SQL_QUERY', statements: ['SELECT * FROM no_such_table'] },
    { id: 'elsewhere', type: 'SQL_QUERY', connection: 'warehouse', statements: ['SELECT 1'] },
    { id: 'strict', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'name', from: 'Name' }], columns: [{ column: 'mpg' }], policies: { multipleMatches: 'ERROR' } },
    { id: 'picky', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'name', from: 'Name' }], columns: [{ column: 'mpg' }], policies: { multipleMatches: 'IGNORE', noMatch: 'KEEP' } },
    { id: 'two-keys', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'name', from: 'Name' }, { column: 'cylinders', type: 'int8' }], columns: [{ column: 'mpg', as: 'MPG' }] },
    // Placeholders in an E'…' string and in comments are text; a trailing comment must not break the row cap.
    { id: 'slow', type: 'SQL_QUERY', parameters: [{ name: 's', type: 'float8' }], statements: ['SELECT pg_sleep(:s)'], timeoutMs: 300 },
    { id: 'commented', type: 'SQL_QUERY', parameters: [{ name: 'origin', type: 'text' }], maxRows: 3, statements: [`SELECT E'it\\'s :origin' AS said, /* :origin /* nested */ */ count(*) AS n FROM cars WHERE origin = :origin -- :origin`] },
  ],
};

interface Backend {
  client: SqlClient;
  /** Makes the database unreachable (only where a network sits in between). */
  stop?: () => Promise<void>;
  /** A server process of its own, which enforces statement_timeout (PGlite runs statements on this event loop and does not). */
  server?: boolean;
  close(): Promise<void>;
}

async function seeded(): Promise<PGlite> {
  const db = await PGlite.create();
  await seedDemoDatabase(db);
  await db.exec(SETUP);
  return db;
}

const backends: [string, () => Promise<Backend>][] = [
  ['PGlite (embedded)', async () => {
    const db = await seeded();
    return { client: new PgliteSqlClient(db, 'default', silentLogger), close: () => db.close() };
  }],
  ['the Neon driver over WebSocket to a Postgres wire-protocol server (pglite-socket)', async () => {
    const db = await seeded();
    const server = await startPgOverWebSocket(db);
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.wsProxy = (host, port) => `${server.wsProxy}?address=${host}:${port}`;
    const client = new NeonSqlClient('postgresql://postgres:postgres@localhost:5432/postgres', 'default', silentLogger, { maxConnections: 1 });
    return { client, stop: () => server.close(), close: async () => { await client.close().catch(() => undefined); await server.close().catch(() => undefined); await db.close(); } };
  }],
];

// CI also proves the driver against a real PostgreSQL server behind websockify (see .ci/run).
if (process.env.APINODE_TEST_PG_URL && process.env.APINODE_TEST_PG_WSPROXY) {
  backends.push(['the Neon driver over WebSocket to a real PostgreSQL server', async () => {
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    const proxy = process.env.APINODE_TEST_PG_WSPROXY!;
    neonConfig.wsProxy = () => proxy;
    const admin = new NeonSqlClient(process.env.APINODE_TEST_PG_URL!, 'setup', silentLogger, { maxConnections: 1 });
    await admin.run([{ text: 'DROP TABLE IF EXISTS cars, notes', values: [] }], 10_000);
    const db = await seeded(); // the same rows, copied over
    const cars = (await db.query<Json>('SELECT * FROM cars')).rows;
    await admin.run([
      { text: 'CREATE TABLE cars (name text NOT NULL, mpg float8, cylinders int8, displacement float8, horsepower float8, weight_lbs float8, acceleration float8, year date, origin text)', values: [] },
      { text: 'INSERT INTO cars SELECT * FROM json_populate_recordset(NULL::cars, $1::json)', values: [JSON.stringify(cars)] },
      { text: SETUP, values: [] },
    ], 30_000);
    await admin.close();
    await db.close();
    const client = new NeonSqlClient(process.env.APINODE_TEST_PG_URL!, 'default', silentLogger, { maxConnections: 2 });
    return { client, server: true, close: () => client.close() };
  }]);
}

for (const [name, make] of backends) {
  describe(`SQL and lookup endpoints on ${name}`, () => {
    let backend: Backend;
    let calls = 0;
    let t: ReturnType<typeof testApp>;
    beforeAll(async () => {
      backend = await make();
      const counting: SqlClient = { run: (s, ms) => (calls++, backend.client.run(s, ms)), check: (s, ms) => backend.client.check!(s, ms), close: () => backend.client.close() };
      const { store } = await tempStore();
      await seedDemo(store, KEY);
      await store.put('services/sqlsvc/generations/g1/manifest.json', json(sqlService));
      await store.put('services/sqlsvc/service.json', json({ serviceId: 'sqlsvc', enabled: true, auth: { method: 'PUBLIC' }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
      t = testApp(store, {}, { sql: (n) => (n === 'default' ? counting : undefined) });
    }, 60_000);
    afterAll(async () => backend?.close());

    const call = async (service: string, path: string, body?: unknown, method = 'POST') => {
      const res = await t.app.request(`/public/api/v1/${service}/${path}`, { method, headers: { Authorization: `Bearer ${KEY}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as Json };
    };

    it('answers a parameterised query with Postgres type names and text values, as computed from the data', async () => {
      const { status, body } = await call('demo', 'cars-by-origin/query', { origin: 'Japan', minMpg: 35 });
      expect(status).toBe(200);
      const [r] = body.results;
      expect(r.columns).toEqual([
        { name: 'name', type: 'text' }, { name: 'mpg', type: 'float8' }, { name: 'cylinders', type: 'int8' },
        { name: 'horsepower', type: 'float8' }, { name: 'year', type: 'date' }, { name: 'origin', type: 'text' },
      ]);
      const want = CARS.filter((c) => c.Origin === 'Japan' && c.Miles_per_Gallon >= 35).sort((a, b) => b.Miles_per_Gallon - a.Miles_per_Gallon || (a.Name < b.Name ? -1 : 1));
      expect(r.rows.map((row: string[]) => [row[0], Number(row[1]), row[4]])).toEqual(want.map((c) => [c.Name, c.Miles_per_Gallon, c.Year]));
      expect(r.rows.every((row: unknown[]) => row.every((v) => typeof v === 'string'))).toBe(true);
      expect(r.updatedRows).toBe(0);
    });

    it('takes parameters from the query string too, and applies declared defaults', async () => {
      const post = await call('demo', 'cars-by-origin/query', { origin: 'Europe' });
      const get = await call('demo', 'cars-by-origin/query?origin=Europe', undefined, 'GET');
      expect(get.body.results).toEqual(post.body.results);
      expect(post.body.results[0].rows).toHaveLength(CARS.filter((c) => c.Origin === 'Europe' && c.Miles_per_Gallon !== null).length);
    });

    it('binds values as parameters: an injection attempt is just a string that matches nothing', async () => {
      const { body } = await call('demo', 'cars-by-origin/query', { origin: "Japan' OR '1'='1" });
      expect(body.results[0].rows).toEqual([]);
    });

    it('names the unknown, missing or invalid parameter in a 400', async () => {
      expect((await call('demo', 'cars-by-origin/query', { origin: 'USA', hack: 1 })).body).toMatchObject({ errorType: 'UNKNOWN_PARAMETER', message: expect.stringContaining('hack') });
      expect((await call('demo', 'cars-by-origin/query', {})).body).toMatchObject({ errorType: 'MISSING_PARAMETER', message: expect.stringContaining('origin') });
      expect((await call('demo', 'cars-by-origin/query', { origin: 'USA', minMpg: 'lots' })).status).toBe(400);
    });

    it('refuses numbers that are not plain decimals, naming the parameter', async () => {
      for (const minMpg of ['0x10', '1e999', 'Infinity', ' 12 ', 'NaN', '1_0']) {
        const post = await call('demo', 'cars-by-origin/query', { origin: 'USA', minMpg });
        expect(post.status, minMpg).toBe(400);
        expect(post.body).toMatchObject({ errorType: 'INVALID_PARAMETER', message: expect.stringContaining('"minMpg"') });
      }
      const get = await call('demo', `cars-by-origin/query?origin=USA&minMpg=${encodeURIComponent('0x10')}`, undefined, 'GET');
      expect(get.body.errorType).toBe('INVALID_PARAMETER');
      expect((await call('demo', 'cars-by-origin/query', { origin: 'USA', minMpg: '1e1' })).status).toBe(200);
    });

    it('refuses text Postgres cannot store (a NUL byte) as an invalid parameter, not a database error', async () => {
      const { status, body } = await call('demo', 'cars-by-origin/query', { origin: 'Jap\u0000an' });
      expect(status).toBe(400);
      expect(body).toMatchObject({ errorType: 'INVALID_PARAMETER', message: expect.stringContaining('"origin"') });
    });

    it('reads placeholders in strings and comments as text, and caps a statement that ends in a comment', async () => {
      const { status, body } = await call('sqlsvc', 'commented/query', { origin: 'Japan' });
      expect(status).toBe(200);
      expect(body.results[0].rows).toEqual([["it's :origin", String(CARS.filter((c) => c.Origin === 'Japan').length)]]);
    });

    it('checks statements in a transaction that always rolls back: each one, past a failing one, and nothing committed', async () => {
      const count = async () => Number((await backend.client.run([{ text: 'SELECT count(*) FROM notes', values: [] }], 5000))[0]!.rows[0]![0]);
      const before = await count();
      const outcomes = await backend.client.check!([
        { text: "INSERT INTO notes(txt) VALUES ('checked')", values: [] },
        { text: 'SELECT * FROM no_such_table', values: [] },
        { text: 'INSERT INTO notes(txt) VALUES ($1::text)', values: [null] },
        { text: 'SELECT count(*) FROM notes', values: [] },
      ], 5000);
      expect(outcomes).toEqual([
        { ok: true },
        { ok: false, code: '42P01', message: expect.stringContaining('no_such_table') },
        { ok: false, code: '23502', message: expect.any(String) },
        { ok: true },
      ]);
      expect(await count()).toBe(before);
    });

    it('runs several statements in one transaction, one result each, with updatedRows and nulls kept', async () => {
      const { status, body } = await call('sqlsvc', 'multi/query', { txt: `note-${name.length}` });
      expect(status).toBe(200);
      expect(body.results).toHaveLength(2);
      expect(body.results[0]).toMatchObject({ columns: [], rows: [], updatedRows: 1 });
      expect(body.results[1].rows).toEqual([['1', `note-${name.length}`, null]]);
      expect(body.results[1].columns.map((c: Json) => c.type)).toEqual(['int8', 'text', 'text']);
    });

    it('cuts an answer at the row cap and says so', async () => {
      const { body } = await call('sqlsvc', 'capped/query', {});
      expect(body.results[0].rows).toHaveLength(5);
      expect(body.results[0].truncated).toBe(true);
    });

    it('answers a failing statement with a safe 500: no driver message, no table names', async () => {
      const { status, body } = await call('sqlsvc', 'broken/query', {});
      expect(status).toBe(500);
      expect(body.errorType).toBe('SQL_ERROR');
      expect(JSON.stringify(body)).not.toContain('no_such_table');
      expect(body.detailedMessage).toMatch(/SQLSTATE 42P01/);
    });

    it('answers 503 SQL_NOT_CONFIGURED for an unknown connection', async () => {
      expect((await call('sqlsvc', 'elsewhere/query', {})).body.errorType).toBe('SQL_NOT_CONFIGURED');
    });

    it('looks up a whole batch in ONE round trip, with the policies applied per record', async () => {
      // Names whose most recent year is unique (ties under orderBy are broken arbitrarily).
      const unique = (n: string) => CARS.filter((c) => c.Name === n && c.Year === latest(n)!.Year).length === 1;
      const names = [...new Set(CARS.map((c) => c.Name as string))].filter(unique).slice(0, 100);
      const before = calls;
      const { body } = await call('demo', 'car-specs/lookup-multi', { items: [...names.map((Name) => ({ data: { Name } })), { data: { Name: 'no such car' } }, { data: {} }] });
      expect(calls - before).toBe(1);
      body.results.slice(0, 100).forEach((r: Json, i: number) => {
        const car = latest(names[i]!)!;
        expect(r).toMatchObject({ ignored: false, data: { Name: names[i], cylinders: car.Cylinders, mpg: car.Miles_per_Gallon, year: car.Year } });
      });
      expect(body.results[100]).toEqual({ ignored: true, ignoreReason: 'NO_MATCH' });
      expect(body.results[101]).toEqual({ ignored: true, ignoreReason: 'MISSING_KEY: no value for "Name"' });
    });

    it('ignores only the record whose key the database cannot hold (a NUL byte, a number that is not decimal)', async () => {
      const car = CARS.find((c) => CARS.filter((d) => d.Name === c.Name && d.Cylinders === c.Cylinders).length === 1 && c.Miles_per_Gallon !== null)!;
      const before = calls;
      const { status, body } = await call('sqlsvc', 'two-keys/lookup-multi', {
        items: [{ data: { Name: 'ford\u0000pinto', cylinders: 4 } }, { data: { Name: car.Name, cylinders: '0x10' } }, { data: { Name: car.Name, cylinders: String(car.Cylinders) } }],
      });
      expect(status).toBe(200);
      expect(calls - before).toBe(1);
      expect(body.results).toEqual([
        { ignored: true, ignoreReason: expect.stringMatching(/^INVALID_KEY: "Name" holds a NUL character/) },
        { ignored: true, ignoreReason: expect.stringMatching(/^INVALID_KEY: "cylinders" is not an integer/) },
        { ignored: false, data: { MPG: car.Miles_per_Gallon } },
      ]);
    });

    it('applies the several-matches and no-match policies, and multi-column keys', async () => {
      const dup = CARS.map((c) => c.Name).find((n, i, all) => all.indexOf(n) !== i)!;
      expect((await call('sqlsvc', 'strict/lookup', { data: { Name: dup } })).body.errorType).toBe('MULTIPLE_LOOKUP_MATCHES');
      const picky = await call('sqlsvc', 'picky/lookup-multi', { items: [{ data: { Name: dup } }, { data: { Name: 'nothing' } }] });
      expect(picky.body.results).toEqual([{ ignored: true, ignoreReason: 'MULTIPLE_LOOKUP_MATCHES' }, { ignored: false, data: {} }]);
      const car = CARS.find((c) => CARS.filter((d) => d.Name === c.Name && d.Cylinders === c.Cylinders).length === 1 && c.Miles_per_Gallon !== null)!;
      const two = await call('sqlsvc', 'two-keys/lookup-simple?' + new URLSearchParams({ Name: car.Name, cylinders: String(car.Cylinders) }), undefined, 'GET');
      expect(two.body.results).toEqual([{ ignored: false, data: { MPG: car.Miles_per_Gallon } }]);
    });

    it('enriches prediction features from a lookup before scoring, timed in timing.enrich', async () => {
      // Names whose most recent year is unique: ties under orderBy are broken arbitrarily.
      const names = ['ford pinto', 'volkswagen rabbit', 'honda civic'];
      const { status, body } = await call('demo', 'car-mpg-by-name/predict-multi', { items: [...names.map((name) => ({ features: { name } })), { features: { name: 'unknown car' } }], dispatch: { forcedGeneration: 'v2' } });
      expect(status).toBe(200);
      const ref = loadReference('v2', 'car-mpg');
      names.forEach((n, i) => {
        const c = latest(n)!;
        const want = referenceScore(ref, { cylinders: c.Cylinders, displacement: c.Displacement, horsepower: c.Horsepower, weight_lbs: c.Weight_in_lbs, acceleration: c.Acceleration, origin: c.Origin });
        expect(Math.abs(body.results[i].prediction - (want.prediction as number))).toBeLessThan(1e-3);
      });
      expect(body.results[3]).toEqual({ ignored: true, ignoreReason: 'NO_MATCH (enrichment from cars)' });
      expect(body.timing.enrich).toBeGreaterThan(0);
    });

    it('ignores only the record whose enrichment key the database cannot hold', async () => {
      const { status, body } = await call('demo', 'car-mpg-by-name/predict-multi', { items: [{ features: { name: 'ford\u0000pinto' } }, { features: { name: 'ford pinto' } }], dispatch: { forcedGeneration: 'v2' } });
      expect(status).toBe(200);
      expect(body.results[0]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/^INVALID_KEY: "name" holds a NUL character.*\(enrichment from cars\)$/) });
      expect(typeof body.results[1].prediction).toBe('number');
    });

    it("stops a statement at the endpoint's timeoutMs with 503 SQL_TIMEOUT, and the node goes on serving", async () => {
      if (!backend.server) return;
      const from = performance.now();
      const { status, body } = await call('sqlsvc', 'slow/query', { s: 5 });
      const ms = performance.now() - from;
      expect(status).toBe(503);
      expect(body.errorType).toBe('SQL_TIMEOUT');
      expect(ms).toBeLessThan(300 + 1500);
      expect((await call('demo', 'cars-by-origin/query', { origin: 'Japan', minMpg: 40 })).status).toBe(200);
    });

    it('refuses the wrong action for an endpoint kind with a clear 400', async () => {
      expect((await call('demo', 'car-specs/predict', { features: {} })).body.errorType).toBe('WRONG_ENDPOINT_TYPE');
      expect((await call('demo', 'car-mpg/query', {})).body.errorType).toBe('WRONG_ENDPOINT_TYPE');
    });

    it('answers 503 when the database is unreachable while the rest of the node keeps serving', async () => {
      if (!backend.stop) return;
      await backend.stop();
      const down = await call('demo', 'cars-by-origin/query', { origin: 'USA' });
      expect(down.status).toBe(503);
      expect(down.body.errorType).toBe('SQL_UNAVAILABLE');
      expect(JSON.stringify(down.body)).not.toMatch(/postgres(ql)?:\/\//);
      expect((await call('demo', 'car-mpg/predict', { features: { cylinders: 4 } })).status).toBe(200);
    });
  });
}
