import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { seedDemoDatabase } from '../../src/runtime/node-demo-sql.js';
import { startPgOverWebSocket } from '../support/pg-ws-bridge.js';
import { DEMO_KEY, type Target } from './suite.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const CARS = JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url)), 'utf8')) as Json[];

/**
 * A Postgres (PGlite behind its wire-protocol server) reached over WebSocket, seeded with the
 * demo's cars, and the variables that point a node's "default" connection at it through the
 * Neon driver: what Lambda and Workers targets use, as they would use Neon.
 */
export async function demoDatabaseOverWebSocket(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const db = await PGlite.create();
  await seedDemoDatabase(db);
  const server = await startPgOverWebSocket(db);
  return {
    env: { APINODE_SQL_DEFAULT: 'postgresql://postgres:postgres@localhost:5432/postgres', APINODE_SQL_WSPROXY: server.wsProxy, APINODE_SQL_WS_SECURE: 'false' },
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

/** The demo's SQL, lookup and enrichment endpoints over HTTP on a runtime. */
export function sqlConformanceSuite(runtime: string, start: () => Promise<Target>): void {
  describe(`SQL and lookup conformance on ${runtime}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => t?.close());
    const auth = { Authorization: `Bearer ${DEMO_KEY}` };
    const call = async (path: string, body?: unknown) => {
      const res = await t.fetch(`/public/api/v1/demo/${path}`, { method: body === undefined ? 'GET' : 'POST', headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, body: (await res.json()) as Json };
    };

    it('answers cars-by-origin with the rows the data holds', async () => {
      const post = await call('cars-by-origin/query', { origin: 'Europe', minMpg: 30 });
      expect(post.status).toBe(200);
      const want = CARS.filter((c) => c.Origin === 'Europe' && c.Miles_per_Gallon >= 30).map((c) => c.Name).sort();
      expect(post.body.results[0].rows.map((r: string[]) => r[0]).sort()).toEqual(want);
      const get = await call('cars-by-origin/query?origin=Europe&minMpg=30');
      expect(get.body.results).toEqual(post.body.results);
    });

    it('looks up car-specs for a batch, ignoring what is not there', async () => {
      const { body } = await call('car-specs/lookup-multi', { items: [{ data: { Name: 'volkswagen rabbit' } }, { data: { Name: 'no such car' } }] });
      expect(body.results[0]).toMatchObject({ ignored: false, data: { Name: 'volkswagen rabbit', year: '1976-01-01', cylinders: 4 } });
      expect(body.results[1]).toEqual({ ignored: true, ignoreReason: 'NO_MATCH' });
    });

    it('refuses a number that is not a plain decimal, naming the parameter', async () => {
      const { status, body } = await call(`cars-by-origin/query?origin=USA&minMpg=${encodeURIComponent('0x10')}`);
      expect(status).toBe(400);
      expect(body).toMatchObject({ errorType: 'INVALID_PARAMETER', message: expect.stringContaining('"minMpg"') });
    });

    it('ignores only the lookup record whose key Postgres text cannot hold (a NUL byte)', async () => {
      const { status, body } = await call('car-specs/lookup-multi', { items: [{ data: { Name: 'volkswagen\u0000rabbit' } }, { data: { Name: 'volkswagen rabbit' } }] });
      expect(status).toBe(200);
      expect(body.results[0]).toEqual({ ignored: true, ignoreReason: expect.stringMatching(/^INVALID_KEY: "Name" holds a NUL character/) });
      expect(body.results[1]).toMatchObject({ ignored: false, data: { Name: 'volkswagen rabbit' } });
    });

    it('enriches car-mpg-by-name from the table before scoring', async () => {
      const { status, body } = await call('car-mpg-by-name/predict', { features: { name: 'volkswagen rabbit' } });
      expect(status).toBe(200);
      expect(typeof body.result.prediction).toBe('number');
      expect(body.timing.enrich).toBeGreaterThanOrEqual(0);
    });
  });
}
