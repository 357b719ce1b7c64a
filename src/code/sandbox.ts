import RELEASE_SYNC from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import type { CodeLimits } from '@apinode/protocol';
import { ApiError, describe } from '../errors.js';
import { CpuMeter } from './cpu-meter.js';
import { PRELUDE } from './prelude.js';

/**
 * The QuickJS WebAssembly module, handed in by the runtime entry where the platform cannot
 * compile WebAssembly from bytes (Workers: imported as CompiledWasm). Absent, the variant
 * loads its own `.wasm` file next to its glue (Node; Lambda, where the bundle ships it).
 */
export type SandboxWasm = WebAssembly.Module | (() => Promise<WebAssembly.Module>);

/** What user code may reach: log lines and named async host functions, nothing else. */
export interface HostApi {
  log(level: string, message: string): void;
  /** `apinode.<group>.<method>(...)` in user code; arguments and results travel as JSON. */
  readonly groups: Readonly<Record<string, Readonly<Record<string, (...args: unknown[]) => Promise<unknown>>>>>;
  /** Plain data exposed as `apinode.context`. */
  readonly context: Readonly<Record<string, unknown>>;
}

export interface SandboxCall {
  /** Module source and its file name (for stack traces). */
  readonly source: string;
  readonly file: string;
  readonly exportName: string;
  /** One argument list per invocation: a function call has one, a custom prediction one per record. */
  readonly invocations: readonly unknown[][];
  /** Append `apinode[group]` as a last argument of each invocation (custom prediction's ctx). */
  readonly ctxGroup?: string;
  readonly limits: CodeLimits;
  readonly host: HostApi;
}

export interface SandboxResult {
  /** One JSON-decoded result per invocation (undefined becomes null). */
  readonly values: unknown[];
  /** Microseconds: creating the runtime and evaluating the module; running the function in the sandbox (CPU, waits excluded). */
  readonly startUs: number;
  readonly cpuUs: number;
}

/** A module that evaluated, and what it exports. */
export interface ModuleShape {
  readonly exports: Record<string, 'function' | 'value'>;
  /** Source text of each exported function (QuickJS keeps it), to read parameter names from. */
  readonly sources: Record<string, string>;
}

// QuickJS checks its stack against this; beyond about 1 MiB the WebAssembly engine's own
// stack overflows first, which is not catchable inside the sandbox.
const MAX_STACK_BYTES = 256 * 1024;
/** An argument left out (JSON has no undefined): the prelude turns it back into undefined, so defaults apply. */
export const HOLE = '\u0000apinode:undefined';
const MAX_LOG_LINES = 100;
const MAX_LOG_CHARS = 2000;

/**
 * Runs user JavaScript in QuickJS compiled to WebAssembly: no eval of user code in the host
 * engine (Workers forbid it), no globals beyond the ECMAScript ones plus `console` and
 * `apinode`, a CPU-time and a memory limit per call. One WebAssembly instance per node
 * instance; every call gets its own QuickJS runtime (heap) unless `keepState` says otherwise.
 */
export class CodeSandbox {
  private module: Promise<QuickJSWASMModule> | null = null;
  /** Milliseconds the last WebAssembly instantiation took (the sandbox start cost). */
  startMs = 0;

  constructor(private readonly wasm?: SandboxWasm) {}

  /** Instantiates the WebAssembly module now (it is otherwise done on first use). */
  async start(): Promise<void> {
    await this.quickjs();
  }

  private quickjs(): Promise<QuickJSWASMModule> {
    if (!this.module) {
      const t0 = performance.now();
      const wasm = this.wasm;
      const variant = wasm ? newVariant(RELEASE_SYNC, { wasmModule: typeof wasm === 'function' ? wasm : () => wasm }) : RELEASE_SYNC;
      this.module = newQuickJSWASMModuleFromVariant(variant).then(
        (m) => ((this.startMs = performance.now() - t0), m),
        (e: unknown) => {
          this.module = null;
          throw ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'The code sandbox could not start; retry shortly', describe(e).slice(0, 500));
        },
      );
    }
    return this.module;
  }

  /** Evaluates a module (at import) and describes its exports; throws what went wrong as text. */
  async inspect(source: string, file: string, limits: CodeLimits): Promise<ModuleShape> {
    const shape: ModuleShape = { exports: {}, sources: {} };
    await this.withInstance(source, file, limits, null, async (inst) => {
      const { vm } = inst;
      const keys = vm.getProp(vm.global, '__exports');
      const listed = vm.unwrapResult(vm.callFunction(keys, vm.undefined, inst.ns));
      keys.dispose();
      const list = JSON.parse(vm.getString(listed)) as [string, 'function' | 'value', string][];
      listed.dispose();
      for (const [name, kind, text] of list) {
        shape.exports[name] = kind;
        if (kind === 'function') shape.sources[name] = text;
      }
    });
    return shape;
  }

  /** Runs the call in a fresh runtime, or in `kept` (a state kept across calls) when given. */
  async run(call: SandboxCall, kept?: KeptInstance): Promise<SandboxResult> {
    if (kept) return kept.serialize(() => this.runIn(call, kept));
    let result: SandboxResult | undefined;
    await this.withInstance(call.source, call.file, call.limits, call.host, async (inst) => {
      result = await this.invoke(inst, call);
    });
    return result!;
  }

  /** A state that lives across calls: one runtime per endpoint and node instance, calls in turn. */
  keep(): KeptInstance {
    return new KeptInstance();
  }

  /** Frees a kept state's runtime (its heap lives in the WebAssembly memory, which no GC reclaims). */
  release(kept: KeptInstance): void {
    void kept.serialize(async () => {
      if (kept.instance) this.dispose(kept.instance);
      kept.instance = null;
    });
  }

  private async runIn(call: SandboxCall, kept: KeptInstance): Promise<SandboxResult> {
    const t0 = performance.now();
    if (!kept.instance) {
      const inst = await this.create(call.source, call.file, call.limits, call.host);
      kept.instance = inst;
    }
    const inst = kept.instance;
    inst.host = call.host;
    inst.logLines = 0;
    inst.meter.reset(call.limits.cpuTimeMs);
    const startUs = Math.round((performance.now() - t0) * 1000);
    try {
      const r = await this.invoke(inst, call);
      return { ...r, startUs };
    } catch (e) {
      // A limit hit or a crash may leave the module half-updated: start afresh next time.
      kept.instance = null;
      this.dispose(inst);
      throw e;
    }
  }

  private async withInstance(source: string, file: string, limits: CodeLimits, host: HostApi | null, use: (inst: Instance) => Promise<void>): Promise<void> {
    const inst = await this.create(source, file, limits, host);
    try {
      await use(inst);
    } finally {
      this.dispose(inst);
    }
  }

  private async create(source: string, file: string, limits: CodeLimits, host: HostApi | null): Promise<Instance> {
    const t0 = performance.now();
    const quickjs = await this.quickjs();
    const meter = new CpuMeter(limits.cpuTimeMs);
    let rt: QuickJSRuntime | undefined;
    let vm: QuickJSContext | undefined;
    try {
      rt = quickjs.newRuntime();
      rt.setMemoryLimit(limits.memoryMiB * 1024 * 1024);
      rt.setMaxStackSize(MAX_STACK_BYTES);
      rt.setInterruptHandler(meter.check);
      vm = rt.newContext();
      const inst: Instance = { rt, vm, ns: vm.undefined, meter, limits, host, pending: new Set(), logLines: 0, alive: true, startUs: 0 };
      this.installHost(inst);
      meter.enter();
      try {
        vm.unwrapResult(vm.evalCode(PRELUDE, 'apinode-prelude.js')).dispose();
        const evaluated = vm.evalCode(source, file, { type: 'module' });
        if (evaluated.error) throw this.failure(inst, evaluated.error, 'evaluating the module');
        inst.ns = evaluated.value;
      } finally {
        meter.leave();
      }
      inst.startUs = Math.round((performance.now() - t0) * 1000);
      return inst;
    } catch (e) {
      this.disposeParts(vm, rt);
      throw this.crashed(e);
    }
  }

  /** console.* and `__call(group, method, argsJson)`: the only doors out of the sandbox. */
  private installHost(inst: Instance): void {
    const { vm } = inst;
    const log = vm.newFunction('__log', (level, message) => {
      if (!inst.host || inst.logLines >= MAX_LOG_LINES) return;
      inst.logLines++;
      const text = vm.getString(message);
      inst.host.log(vm.getString(level), text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}…` : text);
    });
    const call = vm.newFunction('__call', (group, method, args) => {
      const deferred = vm.newPromise();
      inst.pending.add(deferred);
      const g = vm.getString(group);
      const m = vm.getString(method);
      const impl = inst.host?.groups[g]?.[m];
      const text = vm.getString(args); // handles passed in live only during this call
      const work = impl ? Promise.resolve().then(() => impl(...(JSON.parse(text) as unknown[]))) : Promise.reject(new Error(`apinode.${g}.${m} is not available here`));
      work.then(
        (value) => this.settle(inst, deferred, () => vm.newString(JSON.stringify(value ?? null))),
        (err: unknown) => this.settle(inst, deferred, () => hostError(vm, err), true),
      );
      return deferred.handle;
    });
    const context = vm.newFunction('__context', () => vm.newString(JSON.stringify(inst.host?.context ?? {})));
    const setup = vm.newString(JSON.stringify(Object.fromEntries(Object.entries(inst.host?.groups ?? {}).map(([k, v]) => [k, Object.keys(v)]))));
    for (const [name, h] of [['__log', log], ['__call', call], ['__context', context], ['__setup', setup]] as const) {
      vm.setProp(vm.global, name, h);
      h.dispose();
    }
  }

  /** Hands a host result to the sandbox and lets its promise jobs run (on the CPU meter). */
  private settle(inst: Instance, deferred: QuickJSDeferredPromise, make: () => QuickJSHandle, reject = false): void {
    if (!inst.alive || !inst.pending.delete(deferred)) return;
    try {
      const h = make();
      if (reject) deferred.reject(h);
      else deferred.resolve(h);
      h.dispose();
      deferred.dispose();
      this.pump(inst);
    } catch {
      // The sandbox failed meanwhile (a limit): the call's own promise reports it.
    }
  }

  private pump(inst: Instance): void {
    inst.meter.enter();
    try {
      const r = inst.rt.executePendingJobs();
      if (r.error) r.error.dispose();
    } finally {
      inst.meter.leave();
    }
  }

  private async invoke(inst: Instance, call: SandboxCall): Promise<SandboxResult> {
    const { vm, meter } = inst;
    const fn = vm.getProp(inst.ns, call.exportName);
    const runner = vm.getProp(vm.global, '__invoke');
    const args = vm.newString(JSON.stringify(call.invocations, (_k, v: unknown) => (v === undefined ? HOLE : v)));
    const ctx = vm.newString(call.ctxGroup ?? '');
    let promise: QuickJSHandle | undefined;
    try {
      if (vm.typeof(fn) !== 'function') throw new ApiError(500, 'CODE_ERROR', `The module ${call.file} does not export a function "${call.exportName}"`);
      meter.enter();
      let started;
      try {
        started = vm.callFunction(runner, vm.undefined, fn, args, ctx);
      } finally {
        meter.leave();
      }
      if (started.error) throw this.failure(inst, started.error, 'running the function');
      promise = started.value;
      let done = false;
      const settled = vm.resolvePromise(promise).finally(() => (done = true));
      this.pump(inst);
      // A promise that waits on nothing the host still owes can never settle.
      let watch: ReturnType<typeof setInterval> | undefined;
      const stuck = new Promise<'stuck'>((resolve) => (watch = setInterval(() => !done && inst.pending.size === 0 && resolve('stuck'), 20)));
      let outcome;
      try {
        outcome = await Promise.race([settled, stuck]);
      } finally {
        if (watch !== undefined) clearInterval(watch);
      }
      if (outcome === 'stuck') throw new ApiError(500, 'CODE_ERROR', `The function "${call.exportName}" returned a promise that never settles`);
      if (outcome.error) throw this.failure(inst, outcome.error, 'running the function');
      const text = vm.getString(outcome.value);
      outcome.value.dispose();
      return { values: JSON.parse(text) as unknown[], startUs: inst.startUs, cpuUs: Math.round(meter.usedMs * 1000) };
    } catch (e) {
      throw this.crashed(e);
    } finally {
      promise?.dispose();
      for (const h of [fn, runner, args, ctx]) h.dispose();
    }
  }

  /** A QuickJS exception as the node's error: the limit that stopped it, or the user's message. */
  private failure(inst: Instance, error: QuickJSHandle, during: string): ApiError {
    let dumped: unknown;
    try {
      dumped = inst.vm.dump(error);
    } catch {
      dumped = { message: 'unknown error' };
    } finally {
      error.dispose();
    }
    const e = (typeof dumped === 'object' && dumped !== null ? dumped : { message: String(dumped) }) as { name?: string; message?: string; stack?: string };
    const message = String(e.message ?? 'unknown error');
    if (inst.meter.interrupted) {
      return new ApiError(500, 'CODE_TIMEOUT', `The code exceeded its CPU time limit of ${inst.meter.limitMs} ms`, `stopped while ${during}; raise code.limits.cpuTimeMs in the manifest if this is expected`);
    }
    if (/out of memory/i.test(message)) {
      return new ApiError(500, 'CODE_MEMORY_LIMIT', `The code exceeded its memory limit of ${inst.limits.memoryMiB} MiB`, `stopped while ${during}; raise code.limits.memoryMiB in the manifest if this is expected`);
    }
    const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
    // Where in the user's module, in words: the answer carries no stack trace.
    const frame = typeof e.stack === 'string' ? /at (\S+) \(([^)]+):(\d+):(\d+)\)/.exec(e.stack) : null;
    const where = frame && !frame[2]!.includes('apinode-prelude') ? ` (in ${frame[1]}, ${frame[2]} line ${frame[3]})` : '';
    const text = `${name}${message}`.slice(0, 1000);
    return new ApiError(500, 'CODE_ERROR', text, `${text}${where}`);
  }

  /** Anything but an ApiError means the WebAssembly module itself failed: never reuse it. */
  private crashed(e: unknown): ApiError {
    if (e instanceof ApiError) return e;
    this.module = null;
    return new ApiError(500, 'CODE_SANDBOX_FAILED', 'The code sandbox failed while running this call', describe(e).slice(0, 500));
  }

  private dispose(inst: Instance): void {
    inst.alive = false;
    for (const d of inst.pending) d.dispose();
    inst.pending.clear();
    inst.ns.dispose();
    this.disposeParts(inst.vm, inst.rt);
  }

  private disposeParts(vm: QuickJSContext | undefined, rt: QuickJSRuntime | undefined): void {
    try {
      vm?.dispose();
      rt?.dispose();
    } catch {
      // A leaked handle aborts the WebAssembly module: drop it, the next call starts a new one.
      this.module = null;
    }
  }
}

/** Calls to an endpoint whose state is kept run one after the other in one runtime. */
export class KeptInstance {
  instance: Instance | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

export interface Instance {
  readonly rt: QuickJSRuntime;
  readonly vm: QuickJSContext;
  ns: QuickJSHandle;
  readonly meter: CpuMeter;
  host: HostApi | null;
  readonly pending: Set<QuickJSDeferredPromise>;
  logLines: number;
  alive: boolean;
  startUs: number;
  limits: CodeLimits;
}

/** A host failure as an Error inside the sandbox, with the node's status and errorType when there are. */
function hostError(vm: QuickJSContext, err: unknown): QuickJSHandle {
  const e = err as { name?: string; message?: string; status?: number; errorType?: string };
  const h = vm.newError({ name: e.name ?? 'Error', message: String(e.message ?? err) });
  const props: [string, QuickJSHandle][] = [];
  if (typeof e.status === 'number') props.push(['status', vm.newNumber(e.status)]);
  if (typeof e.errorType === 'string') props.push(['errorType', vm.newString(e.errorType)]);
  for (const [k, v] of props) {
    vm.setProp(h, k, v);
    v.dispose();
  }
  return h;
}
