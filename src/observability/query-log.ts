/** One scored record, as written to the query log. Never holds a key, only its label. */
export interface QueryLogEntry {
  time: string;
  requestId: string;
  serviceId: string;
  endpointId: string;
  generation: string;
  caller: string | null;
  /** What the endpoint saw, its context and its answer: each capped (see capped()). */
  features: unknown;
  context: unknown;
  result: unknown;
  /** Microseconds, for the whole request the record was part of. */
  timing: unknown;
}

/** Where query log lines go: stdout on Node, batched sinks on Workers and Lambda. */
export interface QueryLogSink {
  write(entries: readonly QueryLogEntry[]): void;
  /** Resolves when buffered entries are delivered; runtimes call it in waitUntil or before returning. */
  flush(): Promise<void>;
}

export const discardQueryLog: QueryLogSink = { write: () => undefined, flush: async () => undefined };

/** JSON lines through a writer (stdout on Node): one write per request, not per record. */
export function lineQueryLog(write: (chunk: string) => void): QueryLogSink {
  return {
    write(entries) {
      if (entries.length === 0) return;
      let chunk = '';
      for (const e of entries) chunk += JSON.stringify(e) + '\n';
      write(chunk);
    },
    flush: async () => undefined,
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
  const bytes = jsonBytes(value);
  return bytes > maxBytes ? ({ truncated: true, bytes } satisfies Truncated) : value;
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
