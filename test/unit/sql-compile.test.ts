import { fc, test } from '@fast-check/vitest';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { PgliteSqlClient } from '../../src/sql/pglite-sql-client.js';
import { compileStatement } from '../../src/sql/sql-statement.js';

const declared = new Map([
  ['origin', 'text'],
  ['minMpg', 'float8'],
]);

describe('compileStatement', () => {
  it('turns :name into typed positional parameters, one per name', () => {
    const c = compileStatement('UPDATE cars SET origin = :origin WHERE mpg >= :minMpg OR origin = :origin', declared, 10);
    expect(c.text).toBe('UPDATE cars SET origin = ($1::text) WHERE mpg >= ($2::float8) OR origin = ($1::text)');
    expect(c.params).toEqual(['origin', 'minMpg']);
    expect(c.capped).toBe(false);
  });

  it('leaves casts, strings, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = `SELECT x::int, ':origin', "a:origin", $tag$ :origin $tag$ -- :origin\n/* :minMpg */ FROM t WHERE o = :origin`;
    const c = compileStatement(sql, declared, 10);
    expect(c.params).toEqual(['origin']);
    expect(c.text).toContain(`SELECT x::int, ':origin', "a:origin", $tag$ :origin $tag$ -- :origin\n/* :minMpg */ FROM t WHERE o = ($1::text)`);
  });

  it("reads E'…' strings with their backslash escapes, and their continuation on the next line", () => {
    expect(compileStatement(`SELECT E'it\\'s :origin', :minMpg`, declared, 10).params).toEqual(['minMpg']);
    expect(compileStatement(`SELECT E'a\\\\', :origin`, declared, 10).params).toEqual(['origin']);
    // The continuation of an E'…' string keeps its escapes: \\' does not end it.
    expect(compileStatement(`SELECT E'a'\n  'b\\' :origin', :minMpg`, declared, 10).params).toEqual(['minMpg']);
    // A standard string has no backslash escapes.
    expect(compileStatement(`SELECT 'a\\', :origin`, declared, 10).params).toEqual(['origin']);
  });

  it('reads nested block comments as Postgres does', () => {
    expect(compileStatement('SELECT /* a /* :origin */ still comment :minMpg */ :origin', declared, 10).params).toEqual(['origin']);
  });

  it('caps reads one row past the limit, and only reads', () => {
    expect(compileStatement('  -- c\nWITH a AS (SELECT 1) SELECT * FROM a;', declared, 5).text).toBe('SELECT * FROM (-- c\nWITH a AS (SELECT 1) SELECT * FROM a\n) AS apinode_capped LIMIT 6');
    expect(compileStatement('DELETE FROM t', declared, 5).capped).toBe(false);
    expect(compileStatement('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', declared, 5).capped).toBe(false);
    expect(compileStatement('WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a', declared, 5).capped).toBe(false);
    expect(compileStatement('SELECT * INTO copy FROM t', declared, 5).capped).toBe(false);
  });

  it('keeps the capped wrapper valid whatever the statement ends with', () => {
    for (const end of [' -- note', ' /* note */', '; -- done\n', ';;', ' /* a /* nested */ b */', '--']) {
      expect(compileStatement(`SELECT 1${end}`, declared, 5).text).toBe('SELECT * FROM (SELECT 1\n) AS apinode_capped LIMIT 6');
    }
  });

  it('refuses a placeholder that is not a declared parameter', () => {
    expect(() => compileStatement('SELECT :nope', declared, 5)).toThrow(/:nope, which is not a declared parameter/);
  });

  it('refuses what cannot run as one statement, naming the problem', () => {
    expect(() => compileStatement("SELECT 'open", declared, 5)).toThrow(/unterminated quoted string/);
    expect(() => compileStatement("SELECT E'open\\'", declared, 5)).toThrow(/unterminated quoted string/);
    expect(() => compileStatement('SELECT "open', declared, 5)).toThrow(/unterminated quoted identifier/);
    expect(() => compileStatement('SELECT $q$ open', declared, 5)).toThrow(/unterminated dollar-quoted string/);
    expect(() => compileStatement('SELECT /* a /* b */', declared, 5)).toThrow(/unterminated \/\* comment/);
    expect(() => compileStatement('SELECT 1; SELECT 2', declared, 5)).toThrow(/more than one statement/);
    expect(() => compileStatement('SELECT (1', declared, 5)).toThrow(/unclosed "\("/);
    expect(() => compileStatement('SELECT 1) UNION (SELECT 2', declared, 5)).toThrow(/unbalanced "\)"/);
    expect(() => compileStatement('SELECT $1', declared, 5)).toThrow(/\$1 at character 8/);
    expect(() => compileStatement(' -- only a comment', declared, 5)).toThrow(/empty/);
  });

  it('refuses statements that end the transaction or change the pooled session', () => {
    for (const sql of ['COMMIT', ' -- done\nend', 'ROLLBACK', 'begin', 'START TRANSACTION', 'SAVEPOINT s', "PREPARE TRANSACTION 'x'"]) {
      expect(() => compileStatement(sql, declared, 5), sql).toThrow(/controls the transaction/);
    }
    for (const sql of ['SET search_path = evil', 'SET SESSION AUTHORIZATION bob', 'RESET ALL', 'set role admin']) {
      expect(() => compileStatement(sql, declared, 5), sql).toThrow(/changes the session/);
    }
    for (const sql of ['SET LOCAL search_path = app', 'SET CONSTRAINTS ALL DEFERRED', 'SET TRANSACTION READ ONLY']) {
      expect(compileStatement(sql, declared, 5).text).toBe(sql);
    }
  });
});

// Property-based: statements assembled from fragments whose reading is known.

interface Fragment {
  readonly sql: string;
  /** :names it uses as parameters (none inside literals and comments). */
  readonly params: readonly string[];
  /** Text that must come through unchanged. */
  readonly verbatim: boolean;
}

const NAMES = ['a', 'b', 'origin', 'x1'];
const names = new Map(NAMES.map((n) => [n, 'text']));
/** Pieces of literal content: placeholders and everything that could fool a lexer. */
const chunk = fc.constantFrom(':a', ':b', ':origin', '::', "'", "''", '"', '\\', '\\\\', '--', '/*', '*/', '$$', '$q$', ';', '(', ')', 'E', 'x', ' ', '\n', 'é');
const content = fc.array(chunk, { maxLength: 8 }).map((c) => c.join(''));

const standard = (v: string) => `'${v.replace(/'/g, "''")}'`;
const escaped = (v: string) => `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const dollar = (v: string, tag: string) => `$${tag}$${v}$${tag}$`;

const literal: fc.Arbitrary<Fragment> = fc.oneof(
  content.map((v) => standard(v)),
  content.map((v) => escaped(v)),
  fc.tuple(content, fc.constantFrom('', 'q', 'tag_1')).filter(([v, t]) => !`${v}$`.includes(`$${t}$`)).map(([v, t]) => dollar(v, t)),
  content.map((v) => `"${v.replace(/"/g, '""')}"`),
  fc.tuple(content, content).map(([a, b]) => `${escaped(a)}\n  ${escaped(b).slice(1)}`),
  content.map((v) => `-- ${v.replace(/[\n\r]/g, ' ')}\n`),
  fc.tuple(content, content).map(([a, b]) => `/* ${a.replace(/\/\*|\*\//g, '')} /* ${b.replace(/\/\*|\*\//g, '')} */ */`),
).map((sql) => ({ sql, params: [], verbatim: true }));

const code: fc.Arbitrary<Fragment> = fc.oneof(
  fc.constantFrom(...NAMES).map((n) => ({ sql: `:${n}`, params: [n], verbatim: false })),
  fc.constantFrom(...NAMES).map((n) => ({ sql: `:${n}::int`, params: [n], verbatim: false })),
  fc.constantFrom('x::text', 'col', 'e', 'E', 'u&', '1.5e3', ',', '+', '(1)', 'a$b', 'arr[1:2]', 'f(k := 1)').map((sql) => ({ sql, params: [], verbatim: true })),
);

/** The :names in order of first use: what compileStatement must bind. */
const expectedParams = (fragments: readonly Fragment[]) => [...new Set(fragments.flatMap((f) => f.params))];

describe('compileStatement, property-based', () => {
  test.prop([fc.array(fc.oneof(literal, code), { minLength: 1, maxLength: 12 })], { numRuns: 500 })(
    'binds every :name outside literals and comments, and none inside them',
    (fragments) => {
      const sql = `UPDATE t SET c = 1 ${fragments.map((f) => f.sql).join(' ')} END`;
      const c = compileStatement(sql, names, 10);
      expect(c.params).toEqual(expectedParams(fragments));
      for (const f of fragments) if (f.verbatim) expect(c.text).toContain(f.sql);
      expect(c.text.match(/\(\$(\d+)::text\)/g)?.length ?? 0).toBe(fragments.filter((f) => f.params.length).length);
    },
  );
});

describe('compiled statements run on Postgres (PGlite), with literals read back unchanged', () => {
  let db: PGlite;
  let client: PgliteSqlClient;
  beforeAll(async () => {
    db = await PGlite.create();
    client = new PgliteSqlClient(db, 'default', silentLogger);
  });
  afterAll(async () => db?.close());

  /** One select-list item: its SQL and the text Postgres must answer for it. */
  interface Item {
    readonly sql: string;
    readonly expect: (values: Record<string, string>) => string;
    readonly params: readonly string[];
  }
  const item: fc.Arbitrary<Item> = fc.oneof(
    fc.constantFrom(...NAMES).map((n) => ({ sql: `:${n}`, expect: (v: Record<string, string>) => v[n]!, params: [n] })),
    fc.constantFrom(...NAMES).map((n) => ({ sql: `length(:${n})::text`, expect: (v: Record<string, string>) => String([...v[n]!].length), params: [n] })),
    content.map((v) => ({ sql: standard(v), expect: () => v, params: [] })),
    content.map((v) => ({ sql: escaped(v), expect: () => v, params: [] })),
    fc.tuple(content, content, fc.constantFrom('\n  ', ' \n-- :a\n', '\n\n')).map(([a, b, join]) => ({ sql: `${escaped(a)}${join}${escaped(b).slice(1)}`, expect: () => a + b, params: [] })),
    fc.tuple(content, fc.constantFrom('', 'q', 'tag_1')).filter(([v, t]) => !`${v}$`.includes(`$${t}$`)).map(([v, t]) => ({ sql: dollar(v, t), expect: () => v, params: [] })),
    fc.integer().map((n) => ({ sql: `(${n})::int8::text`, expect: () => String(n), params: [] })),
  );
  const gap = fc.constantFrom(' ', '\n', ' /* :a /* :b */ */ ', ' -- :origin \n', '\t');
  const ending = fc.constantFrom('', ';', ' -- trailing :a', ' /* :b /* nested */ */', ';\n-- done', ' --', '\n');
  const value = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));

  test.prop([fc.array(fc.tuple(item, gap), { minLength: 1, maxLength: 6 }), ending, fc.record(Object.fromEntries(NAMES.map((n) => [n, value])) as Record<string, fc.Arbitrary<string>>)], { numRuns: 150 })(
    'a generated SELECT answers each literal as written and each parameter as bound',
    async (items, end, values) => {
      const sql = `SELECT ${items.map(([it, g], k) => `${it.sql}${g}AS "c:${k}"`).join(', ')}${end}`;
      const c = compileStatement(sql, names, 10);
      expect(c.params).toEqual([...new Set(items.flatMap(([it]) => it.params))]);
      const [answer] = await client.run([{ text: c.text, values: c.params.map((n) => values[n]) }], 5000);
      expect(answer!.columns.map((col) => col.name)).toEqual(items.map((_, k) => `c:${k}`));
      expect(answer!.rows).toEqual([items.map(([it]) => it.expect(values))]);
      // The import check's form (LIMIT 0) is valid too.
      expect(await client.check([{ text: c.checkText, values: c.params.map(() => null) }], 5000)).toEqual([{ ok: true }]);
    },
  );
});
