import { describe, expect, it } from 'vitest';
import { compileStatement } from '../../src/sql/sql-statement.js';

const declared = new Map([
  ['origin', 'text'],
  ['minMpg', 'float8'],
]);

describe('compileStatement', () => {
  it('turns :name into typed positional parameters, one per name', () => {
    const c = compileStatement('UPDATE cars SET origin = :origin WHERE mpg >= :minMpg OR origin = :origin', declared, 10);
    expect(c.text).toBe('UPDATE cars SET origin = $1::text WHERE mpg >= $2::float8 OR origin = $1::text');
    expect(c.params).toEqual(['origin', 'minMpg']);
    expect(c.capped).toBe(false);
  });

  it('leaves casts, strings, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = `SELECT x::int, ':origin', "a:origin", $tag$ :origin $tag$ -- :origin\n/* :minMpg */ FROM t WHERE o = :origin`;
    const c = compileStatement(sql, declared, 10);
    expect(c.params).toEqual(['origin']);
    expect(c.text).toContain(`SELECT x::int, ':origin', "a:origin", $tag$ :origin $tag$ -- :origin\n/* :minMpg */ FROM t WHERE o = $1::text`);
  });

  it('caps reads one row past the limit, and only reads', () => {
    expect(compileStatement('  -- c\nWITH a AS (SELECT 1) SELECT * FROM a;', declared, 5).text).toBe('SELECT * FROM (-- c\nWITH a AS (SELECT 1) SELECT * FROM a) AS apinode_capped LIMIT 6');
    expect(compileStatement('DELETE FROM t', declared, 5).capped).toBe(false);
  });

  it('refuses a placeholder that is not a declared parameter', () => {
    expect(() => compileStatement('SELECT :nope', declared, 5)).toThrow(/:nope, which is not a declared parameter/);
  });
});
