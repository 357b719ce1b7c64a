/**
 * npx tsx test/bench/sql.ts: latency of lookup-multi (100 keys) and of the parameterised
 * cars-by-origin query, through the app in-process, on PGlite and (when APINODE_TEST_PG_URL and
 * APINODE_TEST_PG_WSPROXY are set, as in CI) on a real PostgreSQL through the Neon driver.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { silentLogger } from '../../src/observability/logger.js';
import { seedDemoDatabase } from '../../src/runtime/node-demo-sql.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { NeonSqlClient } from '../../src/sql/neon-sql-client.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import type { SqlClient } from '../../src/sql/sql-client.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

const CARS = JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url)), 'utf8')) as { Name: string }[];
const names = [...new Set(CARS.map((c) => c.Name))].slice(0, 100);

async function measure(label: string, client: SqlClient): Promise<string[]> {
  const { store } = await tempStore();
  await seedDemo(store, 'k');
  const { app } = testApp(store, { APINODE_QUERY_LOG: 'off' }, { sql: () => client });
  const req = (path: string, body: unknown) => app.request(`/public/api/v1/demo/${path}`, { method: 'POST', headers: { Authorization: 'Bearer k' }, body: JSON.stringify(body) });
  const lookup = { items: names.map((Name) => ({ data: { Name } })) };
  const query = { origin: 'Japan', minMpg: 30 };
  const rows: string[] = [];
  for (const [what, path, body] of [['lookup-multi, 100 keys', 'car-specs/lookup-multi', lookup], ['query cars-by-origin', 'cars-by-origin/query', query]] as const) {
    for (let i = 0; i < 20; i++) await (await req(path, body)).text();
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const res = await req(path, body);
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      await res.text();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    rows.push(`| ${label} | ${what} | ${times[100]!.toFixed(2)} | ${times[198]!.toFixed(2)} |`);
  }
  return rows;
}

const out = ['| database | call | p50 ms | p99 ms |', '|---|---|---|---|'];
const db = await PGlite.create();
await seedDemoDatabase(db);
out.push(...(await measure('PGlite (embedded, in-process)', new PgliteSqlClient(db, 'default', silentLogger))));
if (process.env.APINODE_TEST_PG_URL && process.env.APINODE_TEST_PG_WSPROXY) {
  neonConfig.webSocketConstructor = WebSocket;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.wsProxy = () => process.env.APINODE_TEST_PG_WSPROXY!;
  const pg = new NeonSqlClient(process.env.APINODE_TEST_PG_URL, 'default', silentLogger);
  // The real server gets the same rows.
  const cars = (await db.query('SELECT * FROM cars')).rows;
  await pg.run([
    { text: 'DROP TABLE IF EXISTS cars', values: [] },
    { text: 'CREATE TABLE cars (name text NOT NULL, mpg float8, cylinders int8, displacement float8, horsepower float8, weight_lbs float8, acceleration float8, year date, origin text)', values: [] },
    { text: 'INSERT INTO cars SELECT * FROM json_populate_recordset(NULL::cars, $1::json)', values: [JSON.stringify(cars)] },
  ], 30_000);
  out.push(...(await measure('PostgreSQL 15 via the Neon driver (websockify on loopback)', pg)));
  await pg.close();
}
console.log(out.join('\n'));
await db.close();
