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
import { crashError, exceptionError } from './sandbox-errors.js';

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
    const settled = vm.resolvePromise(promise).finally(() => (done = true));
    runPendingJobs(inst);
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
    if (outcome.error) throw exceptionError(inst, outcome.error, 'running the function');
    const text = vm.getString(outcome.value);
    outcome.value.dispose();
    return { values: JSON.parse(text) as unknown[], startUs: inst.startUs, cpuUs: Math.round(meter.usedMs * 1000) };
  } catch (e) {
    throw crashError(e, inst.dropModule);
  } finally {
    promise?.dispose();
    for (const h of [fn, runner, args, ctx]) h.dispose();
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
