import type { SqlType } from '@apinode/protocol';

/** A request value bound for a declared SQL type, or a reason it cannot be. */
export function bindValue(type: SqlType, v: unknown): { value: unknown } | { error: string } {
  switch (type) {
    case 'text':
      return typeof v === 'object' && v !== null ? { error: 'is not text' } : { value: String(v) };
    case 'int8':
    case 'int4': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : { error: 'is not an integer' };
    }
    case 'float8':
    case 'numeric': {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { error: 'is not a number' };
    }
    case 'bool':
      if (v === true || v === 'true') return { value: true };
      if (v === false || v === 'false') return { value: false };
      return { error: 'is not true or false' };
    case 'date':
    case 'timestamptz':
      // Postgres parses the text (a bad one is SQLSTATE 22007, a 400).
      return typeof v === 'string' ? { value: v } : { error: 'is not a date string' };
    case 'jsonb':
      return { value: JSON.stringify(v) };
  }
}

/** A text-format value typed for JSON answers: numbers and booleans as such, the rest as text. */
export function fromText(type: string, v: string | null): unknown {
  if (v === null) return null;
  if (type === 'int2' || type === 'int4' || type === 'int8' || type === 'float4' || type === 'float8' || type === 'numeric') return Number(v);
  if (type === 'bool') return v === 't' || v === 'true';
  return v;
}

export const quoteIdent = (name: string) => name.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
