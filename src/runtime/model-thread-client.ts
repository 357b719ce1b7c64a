/**
 * One model thread seen from its parent: calls (load, run) go one at a time, first come first
 * served; a call that runs past its time ends the thread from outside, however busy it is, and a
 * call that waits past its time is refused. What a thread's onnxruntime grew to comes back with
 * every answer (`heap`).
 */
import type { Worker } from 'node:worker_threads';
import { ModelRuntimeError } from '../inference/model-runtime.js';
import { modelErrorFromWire, type FromModelThread, type ModelThreadData, type ToModelThread } from '../inference/model-thread-protocol.js';
import { startThread } from './threads.js';

/** A thread not ready by then (loading and compiling onnxruntime) is ended: its calls fail. */
const START_MS = 30_000;

/** A call running this long makes its thread `stuck`: calls waiting for it may go to another thread. */
export const STUCK_MS = 100;

/** A call the thread never started: it ended first, or handed it off. The caller may send it elsewhere. */
export class ThreadGone extends Error {}

export interface CallLimits {
  /** Longest wait for the calls before it; then refused with `busy()`. */
  readonly waitMs: number;
  /** Longest run; then the thread is ended and the call fails with `overrun()`. */
  readonly runMs: number;
  readonly busy: () => Error;
  readonly overrun: () => Error;
}

type Message = Omit<Extract<ToModelThread, { t: 'load' }>, 'id'> | Omit<Extract<ToModelThread, { t: 'run' }>, 'id'> | Omit<Extract<ToModelThread, { t: 'release' }>, 'id'>;

interface Call {
  readonly id: number;
  readonly message: Message;
  readonly limits: CallLimits;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

let ids = 0;

export class ModelThread {
  private readonly worker: Worker;
  private readonly queue: Call[] = [];
  private current: Call | null = null;
  private ready = false;
  /** onnxruntime's heap in the thread, as of its last answer. */
  heap = 0;
  /** How much of it runs grew (not loads): what a large or hostile request left behind. */
  runGrowth = 0;
  /** Why it ended (then every call fails), or null. */
  ended: Error | null = null;
  /** Settles once onnxruntime has started in the thread, or the thread ended. */
  readonly started: Promise<void>;
  private start!: () => void;

  constructor(
    data: ModelThreadData,
    private readonly events: { settled?(t: ModelThread): void; ended?(t: ModelThread): void; stuck?(t: ModelThread): void } = {},
  ) {
    this.started = new Promise((resolve) => (this.start = resolve));
    this.worker = startThread('model-thread', { workerData: data });
    const late = setTimeout(() => this.end(new ModelRuntimeError(`the model thread did not start within ${START_MS} ms`, 'time')), START_MS);
    late.unref();
    this.worker.on('message', (m: FromModelThread) => {
      if (m.t === 'ready') {
        clearTimeout(late);
        this.ready = true;
        this.start();
        this.queue.forEach((c) => this.waitFor(c));
        return this.pump();
      }
      this.answer(m);
    });
    this.worker.on('error', (e) => this.end(new ModelRuntimeError('the model thread failed', 'resources', { cause: e })));
    this.worker.on('exit', () => (clearTimeout(late), this.end(new ModelRuntimeError('the model thread stopped', 'resources'))));
    // Held (ref) until ready: a Lambda init awaiting `started` has nothing else keeping the event
    // loop alive, and Node would end the process with the top-level await unsettled (exit 13).
    // Once ready, an idle thread is unref'd by pump().
  }

  /** Calls waiting or running. */
  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  call(message: Message, limits: CallLimits): Promise<unknown> {
    if (this.ended) return Promise.reject(new ThreadGone('the model thread ended'));
    return new Promise((resolve, reject) => {
      const call: Call = { id: ++ids, message, limits, resolve, reject, timer: undefined };
      this.queue.push(call);
      this.pump();
      // The wait counts once the thread has started (START_MS bounds that).
      if (this.ready && this.current !== call) this.waitFor(call);
    });
  }

  /** Its call has run past STUCK_MS. */
  stuck = false;

  /** The waiting calls fail with ThreadGone (caused by `why`), to be sent to another thread. */
  handOff(why: Error): void {
    for (const c of this.queue.splice(0)) {
      clearTimeout(c.timer);
      c.reject(new ThreadGone('the model thread handed this call off before starting it', { cause: why }));
    }
  }

  /** Ends the thread: the running call fails with `why`, waiting ones with ThreadGone. */
  end(why: Error): void {
    if (this.ended) return;
    this.ended = why;
    this.start();
    this.stuck = false;
    if (this.current) {
      clearTimeout(this.current.timer);
      this.current.reject(why);
      this.current = null;
    }
    this.handOff(why);
    void this.worker.terminate().catch(() => undefined);
    this.events.ended?.(this);
  }

  /** Refuses the call once it has waited its limit for the calls before it. */
  private waitFor(call: Call): void {
    call.timer = setTimeout(() => {
      this.queue.splice(this.queue.indexOf(call), 1);
      call.reject(call.limits.busy());
    }, call.limits.waitMs);
  }

  private pump(): void {
    if (this.current || this.ended || !this.ready) return;
    const next = this.queue.shift();
    if (!next) return void this.worker.unref();
    clearTimeout(next.timer);
    this.current = next;
    // One timer per call: at STUCK_MS it marks the thread stuck, then waits out the rest of runMs.
    const { runMs } = next.limits;
    next.timer = setTimeout(() => {
      if (runMs <= STUCK_MS) return this.end(next.limits.overrun());
      this.stuck = true;
      next.timer = setTimeout(() => this.end(next.limits.overrun()), runMs - STUCK_MS);
      this.events.stuck?.(this);
    }, Math.min(STUCK_MS, runMs));
    this.worker.ref();
    this.worker.postMessage({ ...next.message, id: next.id });
  }

  private answer(m: Extract<FromModelThread, { t: 'done' }>): void {
    const call = this.current;
    if (!call || call.id !== m.id) return;
    clearTimeout(call.timer);
    this.current = null;
    this.stuck = false;
    if (call.message.t === 'run') this.runGrowth += Math.max(0, m.heap - this.heap);
    this.heap = Math.max(this.heap, m.heap);
    if ('error' in m) call.reject(modelErrorFromWire(m.error));
    else call.resolve(m.value);
    this.events.settled?.(this);
    this.pump();
  }
}
