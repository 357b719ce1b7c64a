import type { MetricWindow } from '@apinode/protocol';
import { describe } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { LATENCY_BOUNDS_MS, latencyBucket } from '../observability/metrics.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { encodeJson } from '../storage/update.js';

/** The latency bucket bounds of src/observability/metrics.ts, in ms: the same histogram, summed across instances. */
export const WINDOW_BOUNDS_MS = LATENCY_BOUNDS_MS;
const MINUTE_MS = 60_000;
/** Windows kept in memory at most (services x generations x minutes not written yet); past it, requests are not counted. */
const MAX_OPEN = 10_000;

/** "YYYY-MM-DDTHH:MM" (UTC) of the minute a time falls in: the minute= segment of a window's key. */
export const minuteOf = (ms: number): string => new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS).toISOString().slice(0, 16);

/** A window's key: metrics/service={s}/generation={g}/minute=YYYY-MM-DDTHH:MM/{instance}.json */
export const windowKey = (serviceId: string, generation: string, minute: string, instance: string): string =>
  `${layout.metricWindowsPrefix(serviceId, generation, minute)}${instance}.json`;

interface Open {
  readonly key: string;
  readonly minuteEndMs: number;
  readonly window: MetricWindow & { counts: number[] };
  dirty: boolean;
}

export interface MetricWindowsOptions {
  readonly now: () => number;
  readonly log: Logger;
  /** This instance's name in the window keys. @default - random */
  readonly instance?: string;
  /** Least time between two writes of this instance's windows. @default 60000 */
  readonly flushEveryMs?: number;
}

/**
 * This instance's per-generation figures, minute by minute (requests, 5xx, 4xx, a latency
 * histogram), written to the bucket at most once a minute: what the rollout controller sums
 * across instances (window-reader.ts), so that its decisions rest on every instance's traffic,
 * on Lambda, Workers and Node alike. A minute still filling is written as it stands and
 * rewritten (same key, fuller counts) at the next write; once written after it ended, it is
 * dropped from memory.
 */
export class MetricWindows {
  readonly instance: string;
  private readonly open = new Map<string, Open>();
  private readonly flushEveryMs: number;
  private lastFlush: number;
  private flushing: Promise<void> | null = null;
  /** Some window changed since the last write. */
  private unwritten = false;
  /** The current minute, formatted once per minute rather than per request. */
  private minuteNo = -1;
  private minute = '';

  constructor(
    private readonly store: ObjectStore,
    private readonly options: MetricWindowsOptions,
  ) {
    this.instance = options.instance ?? `${options.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    this.flushEveryMs = options.flushEveryMs ?? MINUTE_MS;
    this.lastFlush = options.now();
  }

  /** One answered request of a generation: its status and its latency in ms. */
  record(serviceId: string, generation: string, status: number, ms: number): void {
    const now = this.options.now();
    const minuteNo = Math.floor(now / MINUTE_MS);
    if (minuteNo !== this.minuteNo) [this.minuteNo, this.minute] = [minuteNo, minuteOf(now)];
    const minute = this.minute;
    const id = `${serviceId}\u0000${generation}\u0000${minute}`;
    let w = this.open.get(id);
    if (!w) {
      if (this.open.size >= MAX_OPEN) return;
      const window = { requests: 0, serverErrors: 0, clientErrors: 0, boundsMs: [...WINDOW_BOUNDS_MS], counts: new Array<number>(WINDOW_BOUNDS_MS.length + 1).fill(0) };
      w = { key: windowKey(serviceId, generation, minute, this.instance), minuteEndMs: (minuteNo + 1) * MINUTE_MS, window, dirty: false };
      this.open.set(id, w);
    }
    w.dirty = true;
    this.unwritten = true;
    w.window.requests++;
    if (status >= 500) w.window.serverErrors++;
    else if (status >= 400) w.window.clientErrors++;
    w.window.counts[latencyBucket(ms)]!++;
  }

  /** Whether a write is due: something unwritten, and a minute since the last write. Cheap: called after every request. */
  due(): boolean {
    return this.unwritten && this.flushing === null && this.options.now() - this.lastFlush >= this.flushEveryMs;
  }

  /** Writes the windows when due (Lambda: at the end of an invocation; Workers: in waitUntil). */
  flushIfDue(): Promise<void> {
    return this.due() ? this.flush() : Promise.resolve();
  }

  /** Writes every window changed since its last write, now; a failed write is tried again at the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const now = this.options.now();
    this.lastFlush = now;
    this.unwritten = false;
    // Minutes over whose every count is written are final: nothing left to keep.
    for (const [id, w] of this.open) if (!w.dirty && w.minuteEndMs <= now) this.open.delete(id);
    const changed = [...this.open.entries()].filter(([, w]) => w.dirty);
    for (const [, w] of changed) w.dirty = false;
    const failed: string[] = [];
    for (let i = 0; i < changed.length; i += 8) {
      await Promise.all(
        changed.slice(i, i + 8).map(async ([id, w]) => {
          try {
            await this.store.put(w.key, encodeJson(w.window));
            // A minute over and written: its counts are final.
            if (w.minuteEndMs <= now && !w.dirty) this.open.delete(id);
          } catch (e) {
            w.dirty = this.unwritten = true;
            failed.push(`${w.key}: ${describe(e)}`);
          }
        }),
      );
    }
    if (failed.length) this.options.log.warn('metric windows not written; tried again at the next flush', { failed: failed.length, first: failed[0] });
  }
}
