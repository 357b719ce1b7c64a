/**
 * Postgres's lexical structure, as far as a statement's placeholders and its row-cap wrapper
 * need it: where literals, quoted identifiers and comments begin and end, so that `:name`
 * inside them is never taken for a parameter. Follows scan.l of PostgreSQL 15 with
 * standard_conforming_strings on (every transaction sets it, so the server agrees).
 */
export type TokenKind =
  | 'space'
  | 'comment'
  /** A string constant ('…', E'…', B'…', X'…', U&'…'), a quoted identifier or a dollar-quoted string. */
  | 'literal'
  /** `:name`: a named parameter. */
  | 'param'
  /** `$1`: a positional parameter, which statements may not use (parameters are named). */
  | 'positional'
  | 'word'
  | 'number'
  /** `::`, a cast. */
  | 'cast'
  /** Any other single character: ( ) ; , operators. */
  | 'punct';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Offset of the token in the statement. */
  readonly at: number;
}

const SPACE = /[ \t\n\r\f\v]/;
const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CONT = /[A-Za-z_0-9$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$/y;
const NUMBER = /(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?/y;
/** Between two parts of one string constant: whitespace holding a newline, and line comments (scan.l's quotecontinue). */
const CONTINUATION = /[ \t\f\v]*[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'/y;

/** The match of a sticky pattern at `at`, or null. */
function matchAt(re: RegExp, sql: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(sql)?.[0] ?? null;
}

/** A statement that Postgres would refuse to lex (an unterminated literal or comment). */
export class SqlSyntaxError extends Error {}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), at: i });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (SPACE.test(c)) {
      let j = i + 1;
      while (j < sql.length && SPACE.test(sql[j] as string)) j++;
      push('space', j);
    } else if (c === '-' && next === '-') {
      let j = i + 2;
      while (j < sql.length && sql[j] !== '\n' && sql[j] !== '\r') j++;
      push('comment', j);
    } else if (c === '/' && next === '*') {
      push('comment', blockCommentEnd(sql, i));
    } else if (c === "'") {
      push('literal', stringEnd(sql, i, i, false));
    } else if ((c === 'e' || c === 'E') && next === "'") {
      push('literal', stringEnd(sql, i, i + 1, true));
    } else if (c === '"') {
      push('literal', quotedEnd(sql, i, '"', 'quoted identifier'));
    } else if (c === '$') {
      const tag = matchAt(DOLLAR_TAG, sql, i);
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        if (close === -1) throw new SqlSyntaxError(`unterminated dollar-quoted string at character ${i + 1}`);
        push('literal', close + tag.length);
      } else if (next !== undefined && /\d/.test(next)) {
        let j = i + 1;
        while (j < sql.length && /\d/.test(sql[j] as string)) j++;
        push('positional', j);
      } else {
        push('punct', i + 1);
      }
    } else if (c === ':' && next === ':') {
      push('cast', i + 2);
    } else if (c === ':' && next !== undefined && IDENT_START.test(next)) {
      push('param', identEnd(sql, i + 1));
    } else if (IDENT_START.test(c)) {
      push('word', identEnd(sql, i));
    } else if (/\d/.test(c) || (c === '.' && next !== undefined && /\d/.test(next))) {
      push('number', i + (matchAt(NUMBER, sql, i) as string).length);
    } else {
      push('punct', i + 1);
    }
  }
  return tokens;
}

function identEnd(sql: string, from: number): number {
  let j = from;
  while (j < sql.length && IDENT_CONT.test(sql[j] as string)) j++;
  return j;
}

/** Block comments nest in Postgres (unlike the SQL standard's). */
function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let j = from;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else {
      j++;
    }
  }
  throw new SqlSyntaxError(`unterminated /* comment at character ${from + 1}`);
}

/** A quoted identifier: doubled quotes escape, nothing else does. */
function quotedEnd(sql: string, from: number, quote: string, what: string): number {
  let j = from + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] !== quote) return j + 1;
      j += 2;
    } else {
      j++;
    }
  }
  throw new SqlSyntaxError(`unterminated ${what} at character ${from + 1}`);
}

/**
 * A string constant from its opening quote: '' escapes a quote; in E'…' so does a backslash
 * (\' and \\ included). A constant continues after whitespace holding a newline, in the same
 * mode ('a'\n'b' is 'ab'; E'a'\n'\'' is E'a\'').
 */
function stringEnd(sql: string, start: number, quote: number, escapes: boolean): number {
  let j = quote + 1;
  for (;;) {
    if (j >= sql.length) throw new SqlSyntaxError(`unterminated quoted string at character ${start + 1}`);
    const c = sql[j];
    if (escapes && c === '\\') {
      j += 2;
    } else if (c === "'") {
      if (sql[j + 1] === "'") {
        j += 2;
        continue;
      }
      const more = matchAt(CONTINUATION, sql, j + 1);
      if (more === null) return j + 1;
      j += 1 + more.length;
    } else {
      j++;
    }
  }
}

/** Tokens that are neither white space nor comments. */
export const significant = (t: Token) => t.kind !== 'space' && t.kind !== 'comment';
