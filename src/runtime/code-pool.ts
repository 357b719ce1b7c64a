/**
 * Code endpoints in worker threads (Node, Lambda): user code never runs on the thread that
 * answers requests, and a call that overruns its deadline ends with its thread, which is
 * replaced (docs/isolation.md). Host calls (console, the self-client, ctx.predict) come back
 * here as messages and run on the main thread.
 */
import type { Worker } from 'node:worker_threads';
import type { CodeLimits } from '@apinode/protocol';
import type { CodeEngine, CodeEngineOptions, KeptState, ModuleShape } from '../code/engine.js';
import type { HostApi } from '../code/host-bridge.js';
import { fromWire, toWire, type FromThread, type ToThread } from '../code/pool-protocol.js';
import { deadlineError } from '../code/sandbox-errors.js';
import type { SandboxCall, SandboxResult } from '../code/sandbox-instance.js';
import { ApiError } from '../errors.js';
import { startThread } from './threads.js';

/** After its deadline, a thread gets this long to stop the call itself before it is ended. */
const GRACE_MS = 250;
/** A thread not ready by then (loading, instantiating QuickJS) is ended: its calls are 503. */
const START_MS = 15_000;

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly host: HostApi | null;
  readonly wallMs: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** A call waiting for a free thread: started on one as soon as it frees, or refused after its wait. */
interface Waiter {
  readonly go: (slot: Slot) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Slot {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly calls: Map<number, Pending>;
  /** Grew past the memory threshold, or failed: takes no new calls, ends once idle. */
  retiring: boolean;
  dead: boolean;
}

class PoolKept {
  slot: Slot | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly id: number) {}

  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

export class CodePool implements CodeEngine {
  private readonly slots: Slot[] = [];
  /** Calls waiting for a free thread, first come first served. */
  private readonly queue: Waiter[] = [];
  private nextId = 0;
  private readonly recycleBytes: number;
  /** Threads started, ended for their memory, ended at a deadline: for tests and the docs' figures. */
  readonly stats = { started: 0, recycled: 0, killed: 0 };

  constructor(private readonly options: CodeEngineOptions) {
    this.recycleBytes = options.recycleMiB * 1024 * 1024;
  }

  inspect(source: string, file: string, limits: CodeLimits): Promise<ModuleShape> {
    const id = ++this.nextId;
    return this.dispatch(id, { t: 'inspect', id, source, file, limits }, null, limits.cpuTimeMs * 2 + 5000) as Promise<ModuleShape>;
  }

  run(call: SandboxCall, kept?: KeptState): Promise<SandboxResult> {
    const { host, ...rest } = call;
    const groups = Object.fromEntries(Object.entries(host.groups).map(([g, methods]) => [g, Object.keys(methods)]));
    const wire = { ...rest, groups, context: { ...host.context } };
    const wallMs = call.wallMs ?? call.limits.cpuTimeMs * 2 + 5000;
    if (!(kept instanceof PoolKept)) {
      const id = ++this.nextId;
      return this.dispatch(id, { t: 'run', id, call: wire }, host, wallMs) as Promise<SandboxResult>;
    }
    return kept.serialize(() => {
      // Its state lives in one thread (which may be running another call meanwhile); a thread
      // that ended took the state with it.
      if (!kept.slot || kept.slot.dead || kept.slot.retiring) kept.slot = this.pick() ?? this.leastBusy() ?? this.spawn();
      const id = ++this.nextId;
      return this.send(kept.slot, id, { t: 'run', id, call: wire, keptId: kept.id }, host, wallMs) as Promise<SandboxResult>;
    });
  }

  keep(): KeptState {
    return new PoolKept(++this.nextId);
  }

  release(kept: KeptState): void {
    if (!(kept instanceof PoolKept)) return;
    void kept.serialize(async () => {
      if (kept.slot && !kept.slot.dead) kept.slot.worker.postMessage({ t: 'release', keptId: kept.id } satisfies ToThread);
      kept.slot = null;
    });
  }

  async close(): Promise<void> {
    for (const w of this.queue.splice(0)) clearTimeout(w.timer);
    await Promise.all(this.slots.splice(0).map((s) => this.end(s, null)));
  }

  /**
   * One call per thread: a call never waits behind another one's CPU loop or deadline, and a
   * thread ended at a deadline takes no bystander with it. Without a free thread (all
   * `workers` busy) the call waits for one, at most its own wall time, then is refused (503).
   */
  private dispatch(id: number, message: ToThread, host: HostApi | null, wallMs: number): Promise<unknown> {
    const slot = this.pick();
    if (slot) return this.send(slot, id, message, host, wallMs);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        go: (s) => {
          clearTimeout(waiter.timer);
          this.send(s, id, message, host, wallMs).then(resolve, reject);
        },
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'Every code thread is busy; retry shortly', `no code thread was free within ${Math.round(wallMs)} ms (APINODE_CODE_WORKERS threads, each running one call)`));
        }, wallMs),
      };
      this.queue.push(waiter);
    });
  }

  /** Starts waiting calls on threads that are free (or can be started) now. */
  private drain(): void {
    while (this.queue.length > 0) {
      const slot = this.pick();
      if (!slot) return;
      this.queue.shift()!.go(slot);
    }
  }

  /** An idle thread, else a new one while under the size, else none. */
  private pick(): Slot | null {
    const live = this.slots.filter((s) => !s.retiring && !s.dead);
    const idle = live.find((s) => s.calls.size === 0);
    if (idle) return idle;
    return live.length < this.options.workers ? this.spawn() : null;
  }

  private leastBusy(): Slot | null {
    const live = this.slots.filter((s) => !s.retiring && !s.dead);
    return live.length ? live.reduce((a, b) => (b.calls.size < a.calls.size ? b : a)) : null;
  }

  private spawn(): Slot {
    const worker = startThread('code-worker', { env: {} });
    // Deadlines count once the thread has loaded and instantiated QuickJS, not while it starts.
    const ready = new Promise<void>((resolve, reject) => {
      const late = setTimeout(() => reject(new Error(`the code thread was not ready within ${START_MS} ms`)), START_MS);
      late.unref();
      worker.on('message', (m: FromThread) => m.t === 'ready' && (clearTimeout(late), resolve()));
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('the code thread ended before it was ready')));
    });
    const slot: Slot = { worker, ready, calls: new Map(), retiring: false, dead: false };
    ready.catch(() => undefined);
    worker.on('message', (m: FromThread) => this.receive(slot, m));
    worker.on('error', (e) => this.failAll(slot, new ApiError(500, 'CODE_SANDBOX_FAILED', 'The code sandbox failed while running this call', 'its thread stopped (logged); the next call starts a new one', { cause: e })));
    worker.on('exit', () => this.failAll(slot, ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'The code thread running this call stopped; retry shortly', 'the thread ended (a deadline of another call, or a crash)')));
    worker.unref();
    this.slots.push(slot);
    this.stats.started++;
    return slot;
  }

  private async send(slot: Slot, id: number, message: ToThread, host: HostApi | null, wallMs: number): Promise<unknown> {
    const answer = new Promise((resolve, reject) => {
      slot.calls.set(id, { resolve, reject, host, wallMs });
    });
    slot.worker.ref();
    try {
      await slot.ready;
    } catch (e) {
      void this.end(slot, ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'The code sandbox could not start; retry shortly', 'its thread did not start (logged)', { cause: e }));
      return answer;
    }
    const pending = slot.calls.get(id);
    if (!pending || slot.dead) return answer;
    // The thread stops the call at its deadline itself; a thread that cannot (stuck in one
    // synchronous stretch) is ended a little later.
    pending.timer = setTimeout(() => this.overrun(slot, id), wallMs + GRACE_MS);
    slot.worker.postMessage(message);
    return answer;
  }

  private receive(slot: Slot, m: FromThread): void {
    if (m.t === 'ready') return;
    const pending = slot.calls.get(m.id);
    if (!pending) return;
    if (m.t === 'log') return pending.host?.log(m.level, m.message);
    if (m.t === 'host') return void this.hostCall(slot, pending, m);
    clearTimeout(pending.timer);
    slot.calls.delete(m.id);
    if (m.ok) pending.resolve(m.value);
    else pending.reject(fromWire(m.error!));
    if (m.memoryBytes > this.recycleBytes) slot.retiring = true;
    this.settled(slot);
  }

  private async hostCall(slot: Slot, pending: Pending, m: Extract<FromThread, { t: 'host' }>): Promise<void> {
    let reply: ToThread;
    try {
      const impl = pending.host?.groups[m.group]?.[m.method];
      if (!impl) throw new Error(`apinode.${m.group}.${m.method} is not available here`);
      reply = { t: 'host-done', id: m.id, hid: m.hid, ok: true, value: (await impl(...m.args)) ?? null };
    } catch (e) {
      reply = { t: 'host-done', id: m.id, hid: m.hid, ok: false, error: toWire(e) };
    }
    if (slot.dead || !slot.calls.has(m.id)) return;
    try {
      slot.worker.postMessage(reply);
    } catch (e) {
      slot.calls.get(m.id)?.reject(e);
    }
  }

  /** Past its deadline and grace: the call is answered, its thread (and any call sharing it) ended. */
  private overrun(slot: Slot, id: number): void {
    const pending = slot.calls.get(id);
    if (!pending) return;
    slot.calls.delete(id);
    pending.reject(deadlineError(pending.wallMs));
    this.stats.killed++;
    void this.end(slot, null);
  }

  private settled(slot: Slot): void {
    if (slot.calls.size > 0) return;
    if (slot.retiring) {
      this.stats.recycled++;
      void this.end(slot, null);
    } else slot.worker.unref();
    this.drain();
  }

  private failAll(slot: Slot, error: Error): void {
    slot.dead = true;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const p of slot.calls.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    slot.calls.clear();
    // Its place is free: a replacement starts for whoever waits.
    queueMicrotask(() => this.drain());
  }

  private async end(slot: Slot, error: Error | null): Promise<void> {
    this.failAll(slot, error ?? ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'The code thread running this call was stopped; retry', 'its thread was ended: another call on it overran its deadline, or the node is closing'));
    await slot.worker.terminate().catch(() => undefined);
  }
}

/** The engine factory the Node and Lambda entries hand to createApp (ports.codeEngine). */
export const codePool = (options: CodeEngineOptions): CodeEngine => new CodePool(options);
