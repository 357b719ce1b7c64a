import type { QueryLogLine } from '@apinode/protocol';
import type { Logger } from './logger.js';
import type { QueryLogSink } from './query-log.js';

/** A line as a batch holds it: its JSON (what is delivered) and where it belongs. */
export interface BatchItem {
  readonly json: string;
  readonly bytes: number;
  readonly serviceId: string;
  readonly endpointId: string;
  readonly time: string;
}

/** Lines delivered together. A delivery that stores part of it removes those items before it throws, so a retry does not repeat them. */
export interface Batch {
  items: BatchItem[];
}

/** Thrown by a delivery that must not be retried (a collector answering 400 or 401). */
export class PermanentFailure extends Error {}

export interface BatchOptions {
  /** The sink's name, in the metrics and the log: store, http. */
  readonly sink: string;
  /** A batch is sealed and delivered once it holds this many bytes of JSON lines. */
  readonly flushBytes: number;
  /** … or once its first line is this old. */
  readonly flushMs: number;
  /** Most bytes of lines held (open batch and deliveries in flight); past it, lines are dropped and counted. */
  readonly bufferBytes: number;
  /** Seal batches with a timer (Node, Workers in waitUntil); without, only settle() and write() seal them (Lambda, frozen between invocations). */
  readonly timers: boolean;
  /** Attempts per batch, then its lines are dropped and counted. @default 4 */
  readonly attempts?: number;
  /** First retry delay; doubled each attempt, with full jitter, up to maxBackoffMs. @default 200 */
  readonly backoffMs?: number;
  /** @default 5000 */
  readonly maxBackoffMs?: number;
  /** An attempt that takes longer fails (and may be retried). @default 10000 */
  readonly attemptTimeoutMs?: number;
  readonly log: Logger;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Sink failures are logged at most this often (with what happened since), never thrown. */
const LOG_EVERY_MS = 60_000;

const encoder = new TextEncoder();
const utf8Bytes = (s: string) => (/^[\u0000-\u007f]*$/.test(s) ? s.length : encoder.encode(s).length);

interface Open {
  readonly batch: Batch;
  bytes: number;
  readonly since: number;
  readonly done: Promise<void>;
  readonly resolve: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * A sink that batches lines and delivers each batch (an object in the store, a POST) by size and
 * by age, with bounded retries. Memory is bounded by bufferBytes: when deliveries fail or lag,
 * new lines are dropped and counted, and write never waits. Each sealed batch is delivered on its
 * own (no shared loop): on Workers, the request whose write or timer sealed it owns the I/O.
 */
export function batchingQueryLog(o: BatchOptions, deliver: (batch: Batch) => Promise<void>): QueryLogSink {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const attempts = Math.max(1, o.attempts ?? 4);
  let open: Open | null = null;
  const inFlight = new Set<Promise<void>>();
  let heldBytes = 0;
  let delivered = 0;
  let dropped = 0;
  let lastLog = -Infinity;
  let unlogged = { dropped: 0, failures: 0, error: '' };

  const report = (what: Partial<typeof unlogged>) => {
    unlogged = { dropped: unlogged.dropped + (what.dropped ?? 0), failures: unlogged.failures + (what.failures ?? 0), error: what.error ?? unlogged.error };
    if (now() - lastLog < LOG_EVERY_MS) return;
    lastLog = now();
    o.log.warn('query log sink failing: lines are dropped, predictions are not affected', { sink: o.sink, droppedSinceLastReport: unlogged.dropped, failedAttempts: unlogged.failures, lastError: unlogged.error.slice(0, 500) });
    unlogged = { dropped: 0, failures: 0, error: '' };
  };

  const attempt = (batch: Batch) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${o.attemptTimeoutMs ?? 10_000} ms`)), o.attemptTimeoutMs ?? 10_000);
    });
    return Promise.race([deliver(batch), timeout]).finally(() => timer !== undefined && clearTimeout(timer));
  };

  const send = async (batch: Batch, bytes: number) => {
    const total = batch.items.length;
    try {
      for (let n = 1; ; n++) {
        try {
          await attempt(batch);
          delivered += total;
          return;
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          if (n >= attempts || e instanceof PermanentFailure) {
            // What a partial delivery stored was removed from the batch: delivered, not dropped.
            delivered += total - batch.items.length;
            dropped += batch.items.length;
            report({ failures: 1, dropped: batch.items.length, error });
            return;
          }
          report({ failures: 1, error });
          const backoff = random() * Math.min(o.maxBackoffMs ?? 5000, (o.backoffMs ?? 200) * 2 ** (n - 1));
          await new Promise((resolve) => setTimeout(resolve, backoff));
        }
      }
    } finally {
      heldBytes -= bytes;
    }
  };

  const seal = () => {
    const b = open;
    if (!b) return;
    open = null;
    if (b.timer !== undefined) clearTimeout(b.timer);
    const sending = send(b.batch, b.bytes).finally(() => {
      inFlight.delete(sending);
      b.resolve();
    });
    inFlight.add(sending);
  };

  const openBatch = (): Open => {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const b: Open = { batch: { items: [] }, bytes: 0, since: now(), done, resolve };
    if (o.timers) {
      b.timer = setTimeout(() => open === b && seal(), o.flushMs);
      // On Node the timer must not keep a finished process alive (shutdown flushes explicitly).
      (b.timer as { unref?: () => void }).unref?.();
    }
    return b;
  };

  const settled = () => Promise.all([...inFlight, ...(open ? [open.done] : [])]).then(() => undefined);

  return {
    write(lines: readonly QueryLogLine[]) {
      for (const line of lines) {
        const json = JSON.stringify(line);
        const bytes = utf8Bytes(json) + 1;
        if (heldBytes + bytes > o.bufferBytes) {
          dropped++;
          report({ dropped: 1 });
          continue;
        }
        open ??= openBatch();
        open.batch.items.push({ json, bytes, serviceId: line.serviceId, endpointId: line.endpointId, time: line.time });
        open.bytes += bytes;
        heldBytes += bytes;
        if (open.bytes >= o.flushBytes) seal();
      }
    },
    flush() {
      seal();
      return settled();
    },
    settle() {
      if (!o.timers && open && now() - open.since >= o.flushMs) seal();
      // Without timers nothing would ever seal the open batch: wait only for what is in flight.
      return o.timers ? settled() : Promise.all([...inFlight]).then(() => undefined);
    },
    stats: () => [{ sink: o.sink, delivered, dropped, bufferedBytes: heldBytes }],
  };
}
