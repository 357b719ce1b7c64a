import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { neonConfig } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { ApiError } from '../../src/errors.js';
import { checkEnrichment } from '../../src/kinds/prediction/enrich.js';
import { silentLogger } from '../../src/observability/logger.js';
import { seedDemoDatabase } from '../../src/runtime/node-demo-sql.js';
import { validateGeneration } from '../../src/services/generation-import.js';
import { NeonSqlClient } from '../../src/sql/neon-sql-client.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import type { SqlConnections } from '../../src/sql/sql-client.js';
import { ortRuntime } from '../support/node-app.js';
import { silentWebSocketServer } from '../support/pg-ws-bridge.js';
import { json } from '../support/stores.js';

const generation = (endpoints: unknown[]) => new Map([['manifest.json', json({ formatVersion: 1, generation: 'g1', createdAt: '2026-11-01T00:00:00Z', endpoints })]]);

/** The import's answer: 'valid', or its problems, one per line. */
const validate = (endpoints: unknown[], sql?: SqlConnections) =>
  validateGeneration(generation(endpoints), ortRuntime, undefined, sql).then(
    () => 'valid',
    (e: ApiError) => {
      if (e.status !== 400) throw e;
      return e.detailedMessage;
    },
  );

describe('import of data endpoints, checked against the database', () => {
  let db: PGlite;
  let sql: SqlConnections;
  beforeAll(async () => {
    db = await PGlite.create();
    await seedDemoDatabase(db);
    await db.exec('CREATE TABLE notes (id serial PRIMARY KEY, txt text NOT NULL)');
    const client = new PgliteSqlClient(db, 'default', silentLogger);
    sql = (name) => (name === 'default' ? client : undefined);
  }, 60_000);
  afterAll(async () => db?.close());

  const notes = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows[0]!.n;

  it('accepts statements that run, and commits nothing they write', async () => {
    const endpoints = [
      { id: 'write-then-read', type: 'SQL_QUERY', parameters: [{ name: 'txt', type: 'text', default: 'x' }], statements: ['INSERT INTO notes(txt) VALUES (:txt)', 'SELECT count(*) FROM notes -- trailing comment'] },
      // NULL for a NOT NULL column is the sample value's fault, not the statement's.
      { id: 'needs-a-value', type: 'SQL_QUERY', parameters: [{ name: 'txt', type: 'text' }], statements: ['INSERT INTO notes(txt) VALUES (:txt) RETURNING id'] },
      { id: 'specs', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'name', from: 'Name' }], columns: [{ column: 'mpg' }], orderBy: 'year DESC' },
    ];
    expect(await validate(endpoints, sql)).toBe('valid');
    expect(await notes()).toBe(0);
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_xacts")).rows[0]!.n).toBe(0);
  });

  it('refuses, naming endpoint, statement and SQLSTATE, what Postgres cannot run', async () => {
    const problems = await validate([
      { id: 'no-table', type: 'SQL_QUERY', statements: ['SELECT * FROM no_such_table'] },
      { id: 'typo', type: 'SQL_QUERY', statements: ['SELECT 1', 'SELECT nmae FROM cars'] },
      { id: 'bad-cast', type: 'SQL_QUERY', parameters: [{ name: 'n', type: 'int8' }], statements: ['SELECT name FROM cars WHERE name = :n'] },
      { id: 'bad-column', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'nom' }], columns: [{ column: 'mpg' }] },
      { id: 'bad-order', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'name' }], columns: [{ column: 'mpg' }], orderBy: 'yaer' },
      { id: 'bad-key-type', type: 'DATASETS_LOOKUP', table: 'cars', keys: [{ column: 'year', type: 'bool' }], columns: [{ column: 'mpg' }] },
    ], sql);
    expect(problems.split('\n')).toEqual([
      'endpoint "no-table" cannot run on database "default": relation "no_such_table" does not exist (SQLSTATE 42P01)',
      'endpoint "typo" statement 2 cannot run on database "default": column "nmae" does not exist (SQLSTATE 42703)',
      expect.stringMatching(/^endpoint "bad-cast" cannot run on database "default": operator does not exist: text = bigint \(SQLSTATE 42883\)$/),
      'endpoint "bad-column" cannot run on database "default": column t.nom does not exist (SQLSTATE 42703)',
      'endpoint "bad-order" cannot run on database "default": column t.yaer does not exist (SQLSTATE 42703)',
      expect.stringMatching(/^endpoint "bad-key-type" cannot run on database "default": operator does not exist: date = boolean/),
    ]);
  });

  it('refuses SQL that does not compile before reaching the database, and parameter defaults of the wrong type', async () => {
    const problems = await validate([
      { id: 'two', type: 'SQL_QUERY', statements: ['SELECT 1; SELECT 2'] },
      { id: 'open', type: 'SQL_QUERY', statements: ["SELECT E'it\\'s"] },
      { id: 'hex', type: 'SQL_QUERY', parameters: [{ name: 'x', type: 'float8', default: '0x10' }], statements: ['SELECT :x'] },
    ], sql);
    expect(problems.split('\n')).toEqual([
      'endpoint "two": statement holds more than one statement (";" at character 9): give each its own entry in "statements"',
      'endpoint "open": statement has an unterminated quoted string at character 8',
      'endpoint "hex": the default of parameter "x" is not a decimal number (float8)',
    ]);
  });

  it('checks enrichment lookups the same way', async () => {
    const ctx = { files: new Map(), services: { models: ortRuntime, sql, code: undefined as never, log: silentLogger } };
    const enrich = [{ connection: 'default', table: 'cars', keys: [{ column: 'name', type: 'text' as const }], columns: [{ column: 'cylindres' }], policies: { missingKey: 'IGNORE' as const, noMatch: 'IGNORE' as const, multipleMatches: 'KEEP_FIRST' as const } }];
    expect((await checkEnrichment({ id: 'p', enrich }, ctx)).problems).toEqual(['endpoint "p" enrichment cannot run on database "default": column t.cylindres does not exist (SQLSTATE 42703)']);
  });

  it('without a connection of that name (the CLI validating a folder), checks only that the SQL compiles', async () => {
    expect(await validate([{ id: 'no-table', type: 'SQL_QUERY', statements: ['SELECT * FROM no_such_table'] }])).toBe('valid');
    expect(await validate([{ id: 'elsewhere', type: 'SQL_QUERY', connection: 'warehouse', statements: ['SELECT * FROM no_such_table'] }], sql)).toBe('valid');
  });

  it('fails the import with 503, not as an invalid generation, when the database does not answer', async () => {
    const silent = await silentWebSocketServer();
    neonConfig.webSocketConstructor = WebSocket;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.wsProxy = () => silent.wsProxy;
    const client = new NeonSqlClient('postgresql://u:p@db:5432/x', 'default', silentLogger);
    try {
      const from = performance.now();
      const e = await validate([{ id: 'q', type: 'SQL_QUERY', statements: ['SELECT 1'], timeoutMs: 300 }], () => client).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).toBody()).toMatchObject({ errorType: 'SQL_UNAVAILABLE' });
      expect(performance.now() - from).toBeLessThan(2000);
    } finally {
      await silent.close();
      await client.close().catch(() => undefined);
    }
  });
});
