import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { bindValue } from '../../src/sql/sql-values.js';

const refused = (type: Parameters<typeof bindValue>[0], v: unknown) => 'error' in bindValue(type, v);

describe('bindValue', () => {
  it('takes numbers only as JSON numbers or strict decimal text', () => {
    for (const v of ['0x10', '1e999', '-1e999', 'Infinity', '-Infinity', 'NaN', ' 12 ', '12 ', '', '1_000', '0b1', '0o7', '1,5', '--1', '+', '.', 'e5', '1e', true, null, [], {}, Infinity, NaN]) {
      expect(refused('float8', v), JSON.stringify(v)).toBe(true);
      expect(refused('numeric', v), JSON.stringify(v)).toBe(true);
    }
    expect(bindValue('float8', '12.5')).toEqual({ value: 12.5 });
    expect(bindValue('float8', '-.5e2')).toEqual({ value: -50 });
    expect(bindValue('float8', 3)).toEqual({ value: 3 });
    // numeric keeps every digit: it is bound as the text Postgres reads exactly.
    expect(bindValue('numeric', '0.10000000000000000000001')).toEqual({ value: '0.10000000000000000000001' });
    // A float8 that underflows to 0 is refused by Postgres: refused here, naming it.
    expect(bindValue('float8', '1e-400')).toEqual({ error: 'is out of range' });
    expect(bindValue('float8', '0e-400')).toEqual({ value: 0 });
  });

  it('takes integers only as safe JSON integers or digit strings within the type', () => {
    for (const v of ['0x10', '1e3', '1.0', ' 12', '12 ', '', 'Infinity', 1.5, 2 ** 53, '2147483648', true]) {
      expect(refused('int4', v), JSON.stringify(v)).toBe(true);
    }
    expect(bindValue('int4', '-2147483648')).toEqual({ value: -2147483648 });
    expect(bindValue('int4', '+7')).toEqual({ value: 7 });
    expect(bindValue('int8', '9223372036854775807')).toEqual({ value: '9223372036854775807' });
    expect(refused('int8', '9223372036854775808')).toBe(true);
    expect(bindValue('int8', 42)).toEqual({ value: 42 });
  });

  it('refuses text Postgres cannot store: NUL, unpaired surrogates', () => {
    expect(bindValue('text', 'a\u0000b')).toEqual({ error: 'holds a NUL character (U+0000), which Postgres text cannot store' });
    expect(refused('text', 'a\uD800b')).toBe(true);
    expect(refused('text', '\uDC00')).toBe(true);
    expect(refused('date', '2020-01-01\u0000')).toBe(true);
    expect(refused('jsonb', { deep: [{ 'k\u0000': 1 }] })).toBe(true);
    expect(refused('jsonb', { deep: ['\u0000'] })).toBe(true);
    expect(bindValue('text', 'emoji 😀 é')).toEqual({ value: 'emoji 😀 é' });
    expect(bindValue('jsonb', { a: ['😀'] })).toEqual({ value: '{"a":["😀"]}' });
  });

  test.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])('any finite number, as JSON or as its decimal text, binds to itself', (n) => {
    expect((bindValue('float8', n) as { value: number }).value === n).toBe(true);
    expect((bindValue('float8', String(n)) as { value: number }).value === n).toBe(true);
  });

  test.prop([fc.string()])('a string binds as a number only if it is decimal text', (s) => {
    const decimal = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s) && Number.isFinite(Number(s));
    if (!decimal) expect(refused('numeric', s)).toBe(true);
  });
});
