import { QUERY_LOG_PREFIX, queryLogHourPrefix, queryLogLineSchema, type QueryLogLine } from '@apinode/protocol';
import { gunzip } from '../services/archive-inflate.js';
import type { ObjectStore } from '../storage/object-store.js';

export interface QueryLogQuery {
  /** @default 'querylog/' */
  prefix?: string;
  serviceId: string;
  /** @default - every endpoint of the service */
  endpointId?: string;
  /** Only the lines of this generation. @default - every generation */
  generation?: string;
  since: Date;
  /** @default - now */
  until?: Date;
}

/** What a read went through, for reports: filled in as the iteration goes. */
export interface QueryLogReadStats {
  /** Objects read (listed in the window's partitions and still there). */
  objects: number;
  /** Lines in the window that passed the filters (those yielded). */
  lines: number;
  /** Lines that are not JSON or not a QueryLogLine: skipped. */
  skippedLines: number;
  /** Objects that cannot be gunzipped (corrupt, truncated, larger than MAX_OBJECT_BYTES inflated): skipped. */
  unreadableObjects: number;
}

export const emptyReadStats = (): QueryLogReadStats => ({ objects: 0, lines: 0, skippedLines: 0, unreadableObjects: 0 });

const HOUR_MS = 3_600_000;
/**
 * A batch is filed under one hour (the sink's choice: its first line's, or its flush's), so a line
 * can sit in the partition of the hour before or after its own: the reader looks one hour further
 * on each side and filters lines by their own `time`.
 */
const SLACK_HOURS = 1;
/** Up to this many hour partitions are listed one by one; a longer window lists the endpoint's prefix once. */
const MAX_HOUR_LISTS = 48;
/** A batch is about APINODE_QUERY_LOG_FLUSH_BYTES (1 MiB by default); an object inflating past this is not one of ours. */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/** Objects fetched ahead of the one being parsed. */
const READ_AHEAD = 4;

const PARTITION = /(?:^|\/)service=([^/]+)\/endpoint=([^/]+)\/date=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})\/[^/]+$/;

/**
 * Lines of the stored query log in [since, until) (docs/query-log.md for the layout): the hour
 * partitions of the window listed with ObjectStore.list, each object gunzipped (fflate, streaming,
 * bounded), its lines parsed and validated. Unreadable lines and objects are skipped and counted in
 * `stats`; a store that cannot be reached throws (503), as every store read does.
 * Lines come object by object, in key order: not sorted by time.
 */
export async function* readQueryLog(store: ObjectStore, q: QueryLogQuery, stats: QueryLogReadStats = emptyReadStats()): AsyncGenerator<QueryLogLine> {
  const since = q.since.getTime();
  const until = (q.until ?? new Date()).getTime();
  if (!(since < until)) return;
  const keys = await windowKeys(store, q, since, until);
  const pending: Promise<Uint8Array | null>[] = [];
  let next = 0;
  const fetchAhead = () => {
    while (pending.length < READ_AHEAD && next < keys.length) {
      const key = keys[next++]!;
      const read = store.get(key).then((o) => o?.body ?? null);
      read.catch(() => undefined); // awaited in turn below; never an unhandled rejection meanwhile
      pending.push(read);
    }
  };
  fetchAhead();
  while (pending.length > 0) {
    const body = await pending.shift()!;
    fetchAhead();
    if (body === null) continue; // deleted since it was listed (a lifecycle rule): nothing to read
    stats.objects++;
    try {
      for await (const text of inflateLines(body)) {
        const line = parseLine(text);
        if (line === null) {
          if (text.trim() !== '') stats.skippedLines++;
          continue;
        }
        const t = Date.parse(line.time);
        if (!(t >= since && t < until)) continue;
        if (line.serviceId !== q.serviceId || (q.endpointId !== undefined && line.endpointId !== q.endpointId)) continue;
        if (q.generation !== undefined && line.generation !== q.generation) continue;
        stats.lines++;
        yield line;
      }
    } catch (e) {
      if (!(e instanceof UnreadableObject)) throw e;
      // The lines before the damage were read (a line cut short does not parse); the rest is lost.
      stats.unreadableObjects++;
    }
  }
}

class UnreadableObject extends Error {}

/** Keys of the objects whose hour partition is within the window and its slack, in key order. */
async function windowKeys(store: ObjectStore, q: QueryLogQuery, since: number, until: number): Promise<string[]> {
  const first = Math.floor(since / HOUR_MS) - SLACK_HOURS;
  const last = Math.floor((until - 1) / HOUR_MS) + SLACK_HOURS;
  const inWindow = (key: string) => {
    const hour = partitionHour(key);
    return hour !== null && hour >= first && hour <= last;
  };
  const prefix = q.prefix ?? QUERY_LOG_PREFIX;
  if (q.endpointId === undefined || last - first + 1 > MAX_HOUR_LISTS) {
    // Every endpoint, or a long window: one listing of the service's (or endpoint's) prefix.
    const hourPrefix = queryLogHourPrefix({ prefix, serviceId: q.serviceId, endpointId: q.endpointId ?? 'x', time: new Date(0) });
    const cut = q.endpointId === undefined ? '/endpoint=' : '/date=';
    const scope = hourPrefix.slice(0, hourPrefix.indexOf(cut, prefix.length) + 1);
    return (await store.list(scope)).filter(inWindow);
  }
  const keys: string[] = [];
  for (let h = first; h <= last; h++) {
    const hourPrefix = queryLogHourPrefix({ prefix, serviceId: q.serviceId, endpointId: q.endpointId, time: new Date(h * HOUR_MS) });
    keys.push(...(await store.list(hourPrefix)).filter(inWindow));
  }
  return keys;
}

/** The partition's hour (hours since the epoch) of a key in the query-log layout, or null. */
function partitionHour(key: string): number | null {
  const m = PARTITION.exec(key);
  if (!m) return null;
  const t = Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? null : t / HOUR_MS;
}

/**
 * The lines of a gzip object as it inflates: never the whole text at once, each piece scanned
 * once. A line longer than MAX_LINE_CHARS comes as a marker that does not parse (skipped and
 * counted), without being held. Throws UnreadableObject.
 */
async function* inflateLines(body: Uint8Array): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest: string[] = [];
  let restChars = 0;
  let size = 0;
  const pieces = gunzip(single(body));
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await pieces.next();
    } catch {
      throw new UnreadableObject('the object does not inflate');
    }
    if (next.done) break;
    size += next.value.length;
    if (size > MAX_OBJECT_BYTES) throw new UnreadableObject(`the object inflates past ${MAX_OBJECT_BYTES} bytes`);
    const parts = decoder.decode(next.value, { stream: true }).split('\n');
    const last = parts.pop()!;
    if (parts.length > 0) {
      yield restChars > MAX_LINE_CHARS ? OVERLONG : rest.join('') + parts[0]!;
      yield* parts.slice(1);
      rest = [];
      restChars = 0;
    }
    // A line past the limit is not kept growing: only its length is.
    if (restChars <= MAX_LINE_CHARS) rest.push(last);
    restChars += last.length;
  }
  yield restChars > MAX_LINE_CHARS ? OVERLONG : rest.join('') + decoder.decode();
}

/** Query-log fields are capped (APINODE_QUERY_LOG_MAX_FIELD_BYTES): a longer line is not one of ours. */
const MAX_LINE_CHARS = 8 * 1024 * 1024;
/** What an overlong line is read as: not JSON, so skipped and counted. */
const OVERLONG = '(line too long)';

async function* single(body: Uint8Array): AsyncGenerator<Uint8Array> {
  yield body;
}

function parseLine(text: string): QueryLogLine | null {
  if (text.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = queryLogLineSchema.safeParse(json);
  return parsed.success ? (parsed.data as QueryLogLine) : null;
}
