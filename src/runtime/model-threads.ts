/**
 * Models served from worker threads (Node, Lambda; docs/isolation-models.md): onnxruntime never
 * runs on the thread that answers requests, so a model that computes or allocates for seconds
 * delays no `/isAlive`, no function, no SQL; a run longer than APINODE_MODEL_RUN_MAX_MS ends its
 * thread from outside; a thread whose heap grew past APINODE_MODEL_RECYCLE_MIB is replaced, so
 * the memory a large run took comes back. Each model is loaded in one thread (its home), and runs
 * there one at a time; while a run there takes longer than STUCK_MS, the runs waiting behind it
 * go to another thread (started, up to the count, and the model loaded there), so one long run
 * delays other models by at most STUCK_MS.
 */
import { ModelError, ModelRuntimeError, runFailureKind, type ImportModelBudget, type IsolatedModelRuntime, type ModelRuntime, type ModelSession, type TensorValue } from '../inference/model-runtime.js';
import type { Loaded } from '../inference/model-thread-protocol.js';
import { ModelThread, ThreadGone, type CallLimits } from './model-thread-client.js';

export interface ModelThreadsOptions {
  /** Most threads; each model is loaded in one of them. */
  readonly threads: number;
  /** Longest run (and longest wait for the runs before it, with a second's grace). */
  readonly runMs: number;
  /** Longest model load (a cold model, or one reloaded in a new thread). */
  readonly loadMs: number;
  /** A thread whose heap runs grew by more than this is replaced once a new one has loaded its models. */
  readonly recycleBytes: number;
  /** onnxruntime's heap cap in each thread. */
  readonly maxHeapBytes: number;
  /** Yield the CPU to the serving thread (import checks). @default false */
  readonly lowPriority?: boolean;
  /** What a run past runMs fails with. @default a `time` ModelRuntimeError naming APINODE_MODEL_RUN_MAX_MS */
  readonly overrun?: (ms: number) => Error;
  readonly importBudget?: ImportModelBudget;
  readonly isolated?: ModelRuntime['isolated'];
}

interface Remote {
  readonly bytes: Uint8Array;
  home: ModelThread | null;
  readonly loaded: Map<ModelThread, Promise<Loaded>>;
  released: boolean;
}

const WAIT_GRACE_MS = 1_000;
const timeError = (what: string, ms: number, setting = 'APINODE_MODEL_RUN_MAX_MS') => new ModelRuntimeError(`${what} ${ms} ms (${setting})`, 'time');

export class ModelThreads implements ModelRuntime {
  private readonly threads: ModelThread[] = [];
  private readonly models = new Set<Remote>();
  /** Threads started, replaced for their heap, ended at a deadline: for tests and the docs' figures. */
  readonly stats = { started: 0, recycled: 0, killed: 0 };
  readonly importBudget?: ImportModelBudget;
  readonly isolated?: ModelRuntime['isolated'];
  private readonly runLimits: CallLimits;
  private readonly loadLimits: CallLimits;

  constructor(private readonly options: ModelThreadsOptions) {
    if (options.importBudget) this.importBudget = options.importBudget;
    if (options.isolated) this.isolated = options.isolated;
    const overrun = (what: string, ms: number, setting?: string) => () => {
      this.stats.killed++;
      return options.overrun?.(ms) ?? timeError(`${what} was stopped: it ran longer than`, ms, setting);
    };
    const busy = (ms: number) => () => timeError('the model runtime was busy with other runs for', ms);
    // A call waits at most one run's time and a grace: behind a run that is ended at its time, it
    // moves to the thread that replaces it rather than being refused at the same moment.
    const limits = (what: string, ms: number, setting?: string): CallLimits => ({ waitMs: ms + WAIT_GRACE_MS, runMs: ms, busy: busy(ms + WAIT_GRACE_MS), overrun: overrun(what, ms, setting) });
    this.runLimits = limits('the model run', options.runMs);
    this.loadLimits = limits('loading the model', options.loadMs, 'the larger of APINODE_MODEL_RUN_MAX_MS and APINODE_IMPORT_MODEL_MAX_MS');
  }

  /** Starts the first thread now (onnxruntime compiles in it while the node starts); settles once it has. */
  warm(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.threads[0] ?? this.spawn()).started;
  }

  heapBytes(): number {
    return this.threads.reduce((n, t) => n + t.heap, 0);
  }

  async load(bytes: Uint8Array): Promise<ModelSession> {
    const remote: Remote = { bytes, home: null, loaded: new Map(), released: false };
    const first = await this.withHome(remote, (home) => this.ensure(remote, home));
    this.models.add(remote);
    return {
      inputs: first.inputs,
      outputs: first.outputs,
      run: (feeds, fetches) =>
        this.withHome(remote, async (home) => {
          const { session } = await this.ensure(remote, home);
          return (await home.call({ t: 'run', session, feeds, fetches }, this.runLimits)) as Record<string, TensorValue>;
        }).finally(() => remote.released && this.unload(remote)),
      release: () => {
        remote.released = true;
        this.models.delete(remote);
        this.unload(remote);
      },
    };
  }

  /** Ends every thread; later calls fail. */
  close(): void {
    this.closed = true;
    for (const t of this.threads.splice(0)) t.end(new ModelRuntimeError('the node is closing', 'resources'));
  }

  private closed = false;

  /** Releases a model's sessions in their threads, after the calls queued before (a run that came late loads it again, then this). */
  private unload(remote: Remote): void {
    for (const [thread, loaded] of remote.loaded) {
      void loaded.then((l) => thread.call({ t: 'release', session: l.session }, this.loadLimits)).catch(() => undefined);
    }
    remote.loaded.clear();
  }

  /**
   * Calls `work` on the model's home thread, or on another one while home is stuck in a long run;
   * a call a thread never started (ended, or handed off) is tried again the same way.
   */
  private async withHome<T>(remote: Remote, work: (thread: ModelThread) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (!remote.home || remote.home.ended || this.retiring.has(remote.home)) remote.home = this.pick();
      const thread = remote.home.stuck ? this.pick() : remote.home;
      try {
        return await work(thread);
      } catch (e) {
        if (!(e instanceof ThreadGone) || attempt > this.options.threads + 2) throw e instanceof ThreadGone ? ((e.cause as Error | undefined) ?? new ModelRuntimeError('the model thread ended', 'resources')) : e;
      }
    }
  }

  private ensure(remote: Remote, thread: ModelThread): Promise<Loaded> {
    let loaded = remote.loaded.get(thread);
    if (!loaded) {
      loaded = thread.call({ t: 'load', bytes: remote.bytes }, this.loadLimits) as Promise<Loaded>;
      remote.loaded.set(thread, loaded);
      loaded.catch(() => remote.loaded.get(thread) === loaded && remote.loaded.delete(thread));
    }
    return loaded;
  }

  /**
   * A thread for a model: of those not stuck in a long run, the one that is home to the fewest
   * models; none (or all stuck): a new one while under the count, else the least busy.
   */
  private pick(): ModelThread {
    if (this.closed) throw new ModelRuntimeError('the model runtime is closed', 'resources');
    const live = this.threads.filter((t) => !t.ended && !this.recycling.has(t));
    const free = live.filter((t) => !t.stuck);
    const homes = (t: ModelThread) => [...this.models].filter((m) => m.home === t).length;
    if (free.length > 0) return free.reduce((a, b) => (homes(b) < homes(a) ? b : a));
    if (live.length < this.options.threads) return this.spawn();
    return live.reduce((a, b) => (b.load < a.load ? b : a));
  }

  private spawn(): ModelThread {
    const thread = new ModelThread(
      { maxHeapBytes: this.options.maxHeapBytes, lowPriority: this.options.lowPriority ?? false },
      { settled: (t) => this.settled(t), ended: (t) => this.forget(t), stuck: (t) => this.stuck(t) },
    );
    this.threads.push(thread);
    this.stats.started++;
    return thread;
  }

  private recycling = new Set<ModelThread>();
  /** Replaced threads answering their last calls: a model still at home there (its load was in flight at the switch) moves on its next call. */
  private retiring = new Set<ModelThread>();

  /** A thread stuck in a long run hands its waiting calls to another, when there is or can be one. */
  private stuck(t: ModelThread): void {
    const elsewhere = this.threads.some((o) => o !== t && !o.ended && !o.stuck) || this.threads.filter((o) => !o.ended).length < this.options.threads;
    if (elsewhere) t.handOff(timeError('the model runtime was busy with other runs for', this.options.runMs));
  }

  /**
   * A thread whose runs grew its heap past the threshold keeps serving while a new one loads its models;
   * then the models move to the new one and the old one ends, returning its memory.
   */
  private settled(old: ModelThread): void {
    if (old.runGrowth <= this.options.recycleBytes || this.recycling.has(old) || old.ended || this.closed) return;
    this.recycling.add(old);
    const fresh = this.spawn();
    const moving = [...this.models].filter((m) => m.home === old);
    void Promise.allSettled(moving.map((m) => this.ensure(m, fresh))).then(() => {
      for (const m of moving) if (m.home === old) m.home = fresh;
      this.retiring.add(old);
      this.stats.recycled++;
      this.retire(old);
    });
  }

  /** Ends a thread once its runs are answered. */
  private retire(old: ModelThread): void {
    if (old.ended) return;
    if (old.load > 0) return void setTimeout(() => this.retire(old), 5);
    old.end(new ModelRuntimeError('the model thread was replaced', 'resources'));
  }

  private forget(t: ModelThread): void {
    this.recycling.delete(t);
    this.retiring.delete(t);
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    for (const m of this.models) {
      m.loaded.delete(t);
      if (m.home === t) m.home = null;
    }
  }
}

/**
 * An import's throwaway model thread (model-checks.ts): at lower priority, its heap capped at the
 * budget plus `slackBytes`, every call ended at the budget's time. A run that fails for memory,
 * or one stopped at the deadline, makes the check fail with the budget named (`expired()`).
 */
export function isolatedModelThread(budget: ImportModelBudget, slackBytes = 256 * 2 ** 20): IsolatedModelRuntime {
  let expired: string | null = null;
  const mib = Math.round(budget.maxMemoryBytes / 2 ** 20);
  const threads = new ModelThreads({
    threads: 1,
    runMs: budget.maxMs,
    loadMs: budget.maxMs,
    recycleBytes: Infinity,
    maxHeapBytes: budget.maxMemoryBytes + slackBytes,
    lowPriority: true,
    overrun: () => new Error((expired = `it ran longer than the import's budget of ${budget.maxMs} ms (APINODE_IMPORT_MODEL_MAX_MS)`)),
  });
  const noteMemory = (e: unknown) => {
    // A run that could not allocate, or a load that could not (onnxruntime folds constants then).
    const memory = e instanceof ModelRuntimeError ? e.kind === 'resources' : e instanceof ModelError && runFailureKind(e.cause ?? e) === 'resources';
    if (memory) expired ??= `it needed more than ${mib} MiB of memory, the import's budget (APINODE_IMPORT_MODEL_MAX_MEMORY_MIB)`;
    throw e;
  };
  return {
    heapBytes: () => threads.heapBytes(),
    async load(bytes) {
      const session = await threads.load(bytes).catch(noteMemory);
      return { ...session, run: (feeds, fetches) => session.run(feeds, fetches).catch(noteMemory) };
    },
    expired: () => expired,
    close: async () => threads.close(),
  };
}
