/**
 * Milliseconds the rest of the WebAssembly world would call a QuickJS interrupt check: the
 * engine polls about every 10,000 operations, a few milliseconds of plain loop. Only used where
 * the clock stands still while code runs (Workers advance it on I/O only).
 */
const MS_PER_FROZEN_TICK = 4;

/**
 * CPU time spent inside the sandbox, counted only while the host is in it (waits on host
 * calls are not the code's), and the interrupt check QuickJS polls: stop once over the limit.
 */
export class CpuMeter {
  usedMs = 0;
  interrupted = false;
  private since = -1;
  /** enter() calls not yet left: reading a thrown value while evaluating nests them. */
  private depth = 0;
  private lastTick = -1;
  private frozenTicks = 0;

  constructor(public limitMs: number) {}

  reset(limitMs: number): void {
    this.limitMs = limitMs;
    this.usedMs = 0;
    this.interrupted = false;
    this.frozenTicks = 0;
  }

  enter(): void {
    if (this.depth++ > 0) return;
    this.since = performance.now();
    this.lastTick = this.since;
  }

  leave(): void {
    if (this.depth === 0 || --this.depth > 0) return;
    if (this.since >= 0) this.usedMs += performance.now() - this.since;
    this.since = -1;
  }

  /** The interrupt handler: true stops the code (with an uncatchable InternalError). */
  readonly check = (): boolean => {
    const now = performance.now();
    if (now === this.lastTick) this.frozenTicks++;
    this.lastTick = now;
    const spent = this.usedMs + (this.since >= 0 ? now - this.since : 0);
    if (spent > this.limitMs || this.frozenTicks * MS_PER_FROZEN_TICK > this.limitMs) this.interrupted = true;
    return this.interrupted;
  };
}
