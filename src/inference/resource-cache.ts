import { SingleFlight } from '../services/single-flight.js';

/** A cached value and what it weighs. */
export interface Sized<V> {
  readonly value: V;
  readonly bytes: number;
}

/** Borrowed access to a cached value: call release() when done, even on error. */
export interface Lease<V> {
  readonly value: V;
  release(): void;
}

interface Entry<V> {
  value: V;
  bytes: number;
  refs: number;
  evicted: boolean;
}

/**
 * Per-instance cache of expensive resources (ONNX sessions), bounded by bytes, LRU.
 * - Concurrent first requests for a key share one load.
 * - A failed load is not cached: the next request tries again (and a request that joined
 *   another's load retries once with its own, see SingleFlight).
 * - An evicted value is disposed once its last lease is released, never under a running request.
 */
export class ResourceCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new SingleFlight<Entry<V>>();
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly dispose: (value: V) => void,
  ) {}

  async acquire(key: string, load: () => Promise<Sized<V>>): Promise<Lease<V>> {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      entry = await this.loading.run(key, async () => this.insert(key, await load()));
    }
    return this.lease(entry);
  }

  /** Bytes held by cached values (leased evicted values excluded). */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Drop every entry whose key starts with prefix (e.g. a deleted service). */
  evictPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.evict(key);
  }

  private insert(key: string, s: Sized<V>): Entry<V> {
    const entry: Entry<V> = { value: s.value, bytes: s.bytes, refs: 0, evicted: false };
    this.entries.set(key, entry);
    this.total += s.bytes;
    // Keep the newest entry even when it alone exceeds the budget: it is about to be used.
    for (const oldest of this.entries.keys()) {
      if (this.total <= this.maxBytes || oldest === key) break;
      this.evict(oldest);
    }
    return entry;
  }

  private evict(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.total -= entry.bytes;
    entry.evicted = true;
    if (entry.refs === 0) this.dispose(entry.value);
  }

  private lease(entry: Entry<V>): Lease<V> {
    entry.refs++;
    let released = false;
    return {
      value: entry.value,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        if (entry.evicted && entry.refs === 0) this.dispose(entry.value);
      },
    };
  }
}
