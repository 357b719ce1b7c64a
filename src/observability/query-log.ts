import type { QueryLogLine, QueryLogSinkStats } from '@apinode/protocol';

/** One line of the query log (packages/protocol, versioned): one scored record or one failed request. */
export type QueryLogEntry = QueryLogLine;

/**
 * Where query-log lines go (APINODE_QUERY_LOG, docs/query-log.md): stdout, the store, a
 * collector, several at once. write never throws and never waits: a sink that cannot keep up
 * drops lines and counts them.
 */
export interface QueryLogSink {
  write(lines: readonly QueryLogLine[]): void;
  /** Delivers everything buffered now (shutdown, the end of a Lambda invocation's stdout batch). */
  flush(): Promise<void>;
  /**
   * Resolves once what is buffered now is delivered when due: Workers pass it to waitUntil and
   * Lambda awaits it before returning. A sink with timers waits for them; one without delivers
   * only what is due (size or age) and keeps the rest for a later call.
   */
  settle(): Promise<void>;
  /** Counters for the metrics, one entry per sink that can drop lines. */
  stats(): readonly QueryLogSinkStats[];
}

const resolved = Promise.resolve();

export const discardQueryLog: QueryLogSink = { write: () => undefined, flush: () => resolved, settle: () => resolved, stats: () => [] };

const chunkOf = (lines: readonly QueryLogLine[]) => {
  let chunk = '';
  for (const l of lines) chunk += JSON.stringify(l) + '\n';
  return chunk;
};

/** JSON lines through a writer (stdout on Node): one write per request, not per record. */
export function lineQueryLog(write: (chunk: string) => void): QueryLogSink {
  return {
    write(lines) {
      if (lines.length > 0) write(chunkOf(lines));
    },
    flush: () => resolved,
    settle: () => resolved,
    stats: () => [],
  };
}

/**
 * JSON lines kept until settle or flush, then written at once: Lambda writes an invocation's
 * lines before returning; Workers after a macrotask (the answer is on its way first, and
 * concurrent requests share a write).
 */
export function batchedQueryLog(write: (chunk: string) => void, options: { macrotask?: boolean } = {}): QueryLogSink {
  let buffer = '';
  const flush = async () => {
    if (options.macrotask) await new Promise((resolve) => setTimeout(resolve, 0));
    const chunk = buffer;
    buffer = '';
    if (chunk) write(chunk);
  };
  return { write: (lines) => void (buffer += chunkOf(lines)), flush, settle: flush, stats: () => [] };
}

/** Several sinks as one (APINODE_QUERY_LOG=stdout,store,http). */
export function teeQueryLog(sinks: readonly QueryLogSink[]): QueryLogSink {
  if (sinks.length === 1) return sinks[0]!;
  return {
    write: (lines) => sinks.forEach((s) => s.write(lines)),
    flush: async () => void (await Promise.all(sinks.map((s) => s.flush()))),
    settle: async () => void (await Promise.all(sinks.map((s) => s.settle()))),
    stats: () => sinks.flatMap((s) => s.stats()),
  };
}

/** What a logged value too large to keep is replaced with: its size as JSON, in UTF-8 bytes. */
export interface Truncated {
  readonly truncated: true;
  readonly bytes: number;
}

/**
 * The value, or a Truncated marker when its JSON is larger than maxBytes: a 1 MB feature or a
 * 300 MB function answer must not be copied into every log line. Sizes are measured by a walk
 * that allocates nothing, so a huge value is never serialized for the log at all.
 */
export function capped(value: unknown, maxBytes: number): unknown {
  // Most records are a few numbers and short strings: a bound that converts and scans nothing
  // settles them; only a value that may be over the cap is measured exactly.
  if (jsonBytesAtMost(value, maxBytes)) return value;
  const bytes = jsonBytes(value);
  return bytes > maxBytes ? ({ truncated: true, bytes } satisfies Truncated) : value;
}

/** The longest JSON number ("-2.2250738585072014e-308"). */
const MAX_NUMBER_CHARS = 24;

/**
 * True when JSON.stringify(value) surely has at most maxBytes UTF-8 bytes, from an upper bound:
 * a number counts as its longest form, a string as 6 bytes per UTF-16 unit (an escape) plus its
 * quotes. Stops as soon as the bound passes maxBytes: false then means "measure", not "over".
 */
function jsonBytesAtMost(value: unknown, maxBytes: number): boolean {
  let bound = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') bound += v.length * 6 + 2;
    else if (typeof v === 'number') bound += MAX_NUMBER_CHARS;
    else if (Array.isArray(v)) {
      bound += 2 + v.length;
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      bound += 2;
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        bound += k.length * 6 + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else bound += 5; // true, false, null (and what JSON writes as null or leaves out)
    if (bound > maxBytes) return false;
  }
  return true;
}

/**
 * The length in UTF-8 bytes of JSON.stringify(value), for the JSON-shaped values the node logs
 * (plain objects, arrays, strings, numbers, booleans, null). Iterative: no depth overflows it.
 */
export function jsonBytes(value: unknown): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += stringBytes(v);
    else if (typeof v === 'number') bytes += Number.isFinite(v) ? String(v).length : 4;
    else if (typeof v === 'boolean') bytes += v ? 4 : 5;
    else if (Array.isArray(v)) {
      bytes += 1 + Math.max(1, v.length);
      // undefined and functions are written as null in arrays
      for (const x of v) stack.push(x === undefined || typeof x === 'function' ? null : x);
    } else if (typeof v === 'object' && v !== null) {
      let fields = 0;
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function') continue;
        fields++;
        bytes += stringBytes(k) + 1;
        stack.push(x);
      }
      bytes += 1 + Math.max(1, fields);
    } else bytes += 4; // null (and what JSON cannot write, counted as null)
  }
  return bytes;
}

/** Characters JSON escapes or UTF-8 writes in more than one byte. */
const NOT_PLAIN = /[\u0000-\u001f"\\\u0080-\uffff]/;

/** UTF-8 bytes of a string as JSON writes it: quoted, with its escapes. */
function stringBytes(s: string): number {
  if (!NOT_PLAIN.test(s)) return s.length + 2;
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) n += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    else if (c === 0x22 || c === 0x5c) n += 2;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) n += 6; // a lone surrogate is escaped
    else n += 3;
  }
  return n;
}
