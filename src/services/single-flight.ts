/**
 * Concurrent callers for a key share one in-flight task. A caller that joined a task someone
 * else started retries once with its own when that task fails: on Workers, I/O started by one
 * request dies with that request (a cancelled client), and must not fail the others. A task
 * that fails for its own reasons fails the retry too, so errors still surface.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  async run(key: string, task: () => Promise<T>): Promise<T> {
    const joined = this.inflight.get(key);
    if (!joined) return this.start(key, task);
    try {
      return await joined;
    } catch {
      return this.inflight.get(key) ?? this.start(key, task);
    }
  }

  private start(key: string, task: () => Promise<T>): Promise<T> {
    const p: Promise<T> = task().finally(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    this.inflight.set(key, p);
    return p;
  }
}
