/**
 * One QuickJS runtime (heap) with its limits: created with the prelude and the user's module
 * evaluated, called, disposed. Its WebAssembly module is shared with every other instance, so
 * anything that suggests the module is corrupt makes the instance call `dropModule`.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core';
import type { CodeLimits } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { CpuMeter } from './cpu-meter.js';
import { installHost, runPendingJobs, type Bridged, type HostApi } from './host-bridge.js';
import { PRELUDE } from './prelude.js';
import { answerTooLarge, crashError, deadlineError, exceptionError, timeoutError } from './sandbox-errors.js';

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
  /** Wall-clock milliseconds the call may wait (on host calls) before it is stopped. @default - none */
  readonly wallMs?: number;
  /** Largest answer, in bytes of JSON (all invocations together). @default - none */
  readonly maxAnswerBytes?: number;
}

export interface SandboxResult {
  /** One JSON-decoded result per invocation (undefined becomes null). */
  readonly values: unknown[];
  /** Microseconds: creating the runtime and evaluating the module; running the function in the sandbox (CPU, waits excluded). */
  readonly startUs: number;
  readonly cpuUs: number;
}

export interface Instance extends Bridged {
  /** The module's namespace object. */
  ns: QuickJSHandle;
  startUs: number;
  limits: CodeLimits;
  /** Forgets the shared WebAssembly module: the next call instantiates a new one. */
  readonly dropModule: () => void;
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

// QuickJS checks its stack against this; beyond about 1 MiB the WebAssembly engine's own
// stack overflows first, which is not catchable inside the sandbox.
const MAX_STACK_BYTES = 256 * 1024;

export function newInstance(quickjs: QuickJSWASMModule, source: string, file: string, limits: CodeLimits, host: HostApi | null, dropModule: () => void): Instance {
  const meter = new CpuMeter(limits.cpuTimeMs);
  let rt: QuickJSRuntime | undefined;
  let vm: QuickJSContext | undefined;
  try {
    rt = quickjs.newRuntime();
    rt.setMemoryLimit(limits.memoryMiB * 1024 * 1024);
    rt.setMaxStackSize(MAX_STACK_BYTES);
    rt.setInterruptHandler(meter.check);
    vm = rt.newContext();
    const inst: Instance = { rt, vm, ns: vm.undefined, meter, limits, host, pending: new Set(), logLines: 0, alive: true, startUs: 0, dropModule };
    installHost(inst);
    meter.enter();
    try {
      vm.unwrapResult(vm.evalCode(PRELUDE, 'apinode-prelude.js')).dispose();
      const evaluated = vm.evalCode(source, file, { type: 'module' });
      if (evaluated.error) throw exceptionError(inst, evaluated.error, 'evaluating the module');
      inst.ns = evaluated.value;
    } finally {
      meter.leave();
    }
    return inst;
  } catch (e) {
    disposeParts(vm, rt, dropModule);
    throw crashError(e, dropModule);
  }
}

/** Runs `call.exportName` once per invocation (the prelude's `__invoke`) and waits for all of them. */
export async function invoke(inst: Instance, call: SandboxCall): Promise<SandboxResult> {
  const { vm, meter } = inst;
  const fn = vm.getProp(inst.ns, call.exportName);
  const runner = vm.getProp(vm.global, '__invoke');
  const args = vm.newString(JSON.stringify(call.invocations.map(withHoles)));
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
    if (started.error) throw exceptionError(inst, started.error, 'running the function');
    promise = started.value;
    let done = false;
    // resolvePromise reads the global Promise and calls `then`: user code may have replaced both.
    const settled = metered(inst, () => vm.resolvePromise(promise!)).finally(() => (done = true));
    runPendingJobs(inst);
    // A promise that waits on nothing the host still owes can never settle.
    let watch: ReturnType<typeof setInterval> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<'stuck'>((resolve) => (watch = setInterval(() => !done && inst.pending.size === 0 && resolve('stuck'), 20)));
    const late = new Promise<'late'>((resolve) => call.wallMs !== undefined && (timer = setTimeout(() => resolve('late'), Math.max(0, call.wallMs))));
    let outcome;
    try {
      outcome = await Promise.race([settled, stuck, late]);
    } finally {
      if (watch !== undefined) clearInterval(watch);
      if (timer !== undefined) clearTimeout(timer);
    }
    if (outcome === 'stuck') throw new ApiError(500, 'CODE_ERROR', `The function "${call.exportName}" returned a promise that never settles`);
    if (outcome === 'late') throw deadlineError(call.wallMs!);
    if (outcome.error) throw exceptionError(inst, outcome.error, 'running the function');
    const text = readAnswer(inst, outcome.value, call.maxAnswerBytes);
    return { values: JSON.parse(text) as unknown[], startUs: inst.startUs, cpuUs: Math.round(meter.usedMs * 1000) };
  } catch (e) {
    // Host work on the meter (reading a replaced `then`) stopped by it: the code's limit, not a crash.
    if (!(e instanceof ApiError) && meter.interrupted) throw timeoutError(meter, 'running the function');
    throw crashError(e, inst.dropModule);
  } finally {
    promise?.dispose();
    for (const h of [fn, runner, args, ctx]) h.dispose();
  }
}

/**
 * The answer's JSON text (made by the prelude, on the meter), refused past `max` bytes before it
 * is copied out of the sandbox when its length alone says so. Disposes `value`.
 */
function readAnswer(inst: Instance, value: QuickJSHandle, max: number | undefined): string {
  try {
    // The prelude answers a string, unless user code replaced what it calls: then no getter or toString of theirs runs here.
    if (inst.vm.typeof(value) !== 'string') throw new ApiError(500, 'CODE_ERROR', 'The code replaced what the sandbox uses to answer (JSON, Promise); its answer cannot be read');
    if (max !== undefined) {
      const length = inst.vm.getProp(value, 'length');
      const chars = inst.vm.getNumber(length);
      length.dispose();
      // UTF-8 takes 1 to 3 bytes per UTF-16 unit.
      if (chars > max) throw answerTooLarge(max, `at least ${chars}`);
      const text = inst.vm.getString(value);
      const bytes = chars * 3 <= max ? chars : new TextEncoder().encode(text).length;
      if (bytes > max) throw answerTooLarge(max, String(bytes));
      return text;
    }
    return inst.vm.getString(value);
  } finally {
    value.dispose();
  }
}

/** Runs host work that may run user code (getters, replaced globals) on the CPU meter. */
export function metered<T>(inst: Bridged, work: () => T): T {
  inst.meter.enter();
  try {
    return work();
  } finally {
    inst.meter.leave();
  }
}

/**
 * One invocation's arguments as JSON carries them: JSON has no undefined, so the positions of
 * left-out arguments travel apart (the prelude makes them undefined again, so defaults apply),
 * never as a marker value that a caller's own string could equal.
 */
function withHoles(list: readonly unknown[]): { args: unknown[]; holes: number[] } {
  const holes = list.flatMap((v, i) => (v === undefined ? [i] : []));
  return { args: list.map((v) => (v === undefined ? null : v)), holes };
}

export function disposeInstance(inst: Instance): void {
  inst.alive = false;
  for (const d of inst.pending) d.dispose();
  inst.pending.clear();
  inst.ns.dispose();
  disposeParts(inst.vm, inst.rt, inst.dropModule);
}

function disposeParts(vm: QuickJSContext | undefined, rt: QuickJSRuntime | undefined, dropModule: () => void): void {
  try {
    vm?.dispose();
    rt?.dispose();
  } catch {
    // A leaked handle aborts the WebAssembly module: drop it, the next call starts a new one.
    dropModule();
  }
}
