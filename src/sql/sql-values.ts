import type { SqlType } from '@apinode/protocol';

/** Integers as text: an optional sign and digits, nothing else (no spaces, no 0x, no exponent). */
const INTEGER = /^[+-]?\d+$/;
/** Decimal numbers as text: digits with an optional fraction and exponent (no spaces, no 0x, no Infinity or NaN). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const RANGE: Record<'int4' | 'int8', [bigint, bigint]> = {
  int4: [-(2n ** 31n), 2n ** 31n - 1n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

type Bound = { value: unknown } | { error: string };

/**
 * A request value bound for a declared SQL type, or a reason it cannot be. Only what Postgres
 * will take as that type passes, so a bad value is the caller's 400 naming it (or one ignored
 * lookup record), never a database error that fails a whole batch.
 */
export function bindValue(type: SqlType, v: unknown): Bound {
  switch (type) {
    case 'text':
      return typeof v === 'object' && v !== null ? { error: 'is not text' } : textValue(String(v));
    case 'int8':
    case 'int4':
      return integer(type, v);
    case 'float8':
    case 'numeric':
      return decimal(type, v);
    case 'bool':
      if (v === true || v === 'true') return { value: true };
      if (v === false || v === 'false') return { value: false };
      return { error: 'is not true or false' };
    case 'date':
    case 'timestamptz':
      // Postgres parses the text (a bad one is SQLSTATE 22007, a 400).
      return typeof v === 'string' ? textValue(v) : { error: 'is not a date string' };
    case 'jsonb': {
      const bad = unstorable(v);
      return bad ? { error: bad } : { value: JSON.stringify(v) };
    }
  }
}

function integer(type: 'int4' | 'int8', v: unknown): Bound {
  const [min, max] = RANGE[type];
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) && v >= min && v <= max ? { value: v } : { error: 'is not an integer in range' };
  }
  if (typeof v !== 'string' || !INTEGER.test(v)) return { error: 'is not an integer' };
  const n = BigInt(v);
  if (n < min || n > max) return { error: 'is not an integer in range' };
  // Beyond 2^53 bound as text, which Postgres reads exactly.
  return { value: Number.isSafeInteger(Number(n)) ? Number(n) : n.toString() };
}

function decimal(type: 'float8' | 'numeric', v: unknown): Bound {
  if (typeof v === 'number') return Number.isFinite(v) ? { value: v } : { error: 'is not a number' };
  if (typeof v !== 'string' || !DECIMAL.test(v)) return { error: 'is not a decimal number' };
  const n = Number(v);
  if (!Number.isFinite(n)) return { error: 'is out of range' };
  // Postgres refuses a float8 that underflows to 0 (SQLSTATE 22003); numeric keeps every digit.
  if (type === 'float8' && n === 0 && /[1-9]/.test(v.replace(/[eE].*$/, ''))) return { error: 'is out of range' };
  return { value: type === 'numeric' ? v : n };
}

const textValue = (s: string): Bound => {
  const bad = unstorableText(s);
  return bad ? { error: bad } : { value: s };
};

/** Why Postgres text cannot hold this string: a NUL character, or half of a UTF-16 surrogate pair (not UTF-8). */
function unstorableText(s: string): string | undefined {
  if (s.includes('\u0000')) return 'holds a NUL character (U+0000), which Postgres text cannot store';
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)) return 'holds an unpaired UTF-16 surrogate, which is not valid Unicode';
  return undefined;
}

/** The same for every string (and key) of a JSON value: jsonb refuses \u0000 and lone surrogates too. */
function unstorable(root: unknown): string | undefined {
  const todo = [root];
  while (todo.length) {
    const v = todo.pop();
    if (typeof v === 'string') {
      const bad = unstorableText(v);
      if (bad) return bad;
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) todo.push(k, x);
    }
  }
  return undefined;
}

/** A text-format value typed for JSON answers: numbers and booleans as such, the rest as text. */
export function fromText(type: string, v: string | null): unknown {
  if (v === null) return null;
  if (type === 'int2' || type === 'int4' || type === 'int8' || type === 'float4' || type === 'float8' || type === 'numeric') return Number(v);
  if (type === 'bool') return v === 't' || v === 'true';
  return v;
}

export const quoteIdent = (name: string) => name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
