/**
 * The only doors out of the sandbox: `console.*` (as `__log`), `apinode.<group>.<method>(...)`
 * (as `__call`, an async host function whose arguments and result travel as JSON) and
 * `apinode.context`. The prelude builds the user-facing `apinode` object on these globals.
 */
import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import type { CpuMeter } from './cpu-meter.js';
import { hostErrorHandle } from './sandbox-errors.js';

/** What user code may reach: log lines and named async host functions, nothing else. */
export interface HostApi {
  log(level: string, message: string): void;
  /** `apinode.<group>.<method>(...)` in user code; arguments and results travel as JSON. */
  readonly groups: Readonly<Record<string, Readonly<Record<string, (...args: unknown[]) => Promise<unknown>>>>>;
  /** Plain data exposed as `apinode.context`. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** The part of a sandbox instance the bridge reads and updates (a kept instance changes `host` per call). */
export interface Bridged {
  readonly rt: QuickJSRuntime;
  readonly vm: QuickJSContext;
  readonly meter: CpuMeter;
  host: HostApi | null;
  /** Host calls the sandbox still waits on; none left and an unsettled promise means it never settles. */
  readonly pending: Set<QuickJSDeferredPromise>;
  logLines: number;
  /** False once disposed: a host call finishing later must not touch the freed runtime. */
  alive: boolean;
}

const MAX_LOG_LINES = 100;
const MAX_LOG_CHARS = 2000;
/** Largest JSON of one host call's arguments: the main thread serializes what it is handed. */
const MAX_HOST_ARGS_CHARS = 8 * 1024 * 1024;

export function installHost(inst: Bridged): void {
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
    const length = vm.getProp(args, 'length');
    const chars = vm.getNumber(length);
    length.dispose();
    const text = chars > MAX_HOST_ARGS_CHARS ? '' : vm.getString(args); // handles passed in live only during this call
    const work = !impl
      ? Promise.reject(new Error(`apinode.${g}.${m} is not available here`))
      : text === ''
        ? Promise.reject(new Error(`the arguments of apinode.${g}.${m} are ${chars} characters of JSON, more than ${MAX_HOST_ARGS_CHARS}`))
        : Promise.resolve().then(() => impl(...(JSON.parse(text) as unknown[])));
    work.then(
      (value) => settle(inst, deferred, () => vm.newString(JSON.stringify(value ?? null))),
      (err: unknown) => settle(inst, deferred, () => hostErrorHandle(vm, err), true),
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
function settle(inst: Bridged, deferred: QuickJSDeferredPromise, make: () => QuickJSHandle, reject = false): void {
  if (!inst.alive || !inst.pending.delete(deferred)) return;
  try {
    const h = make();
    if (reject) deferred.reject(h);
    else deferred.resolve(h);
    h.dispose();
    deferred.dispose();
    runPendingJobs(inst);
  } catch {
    // The sandbox failed meanwhile (a limit): the call's own promise reports it.
  }
}

/** Runs the sandbox's queued promise jobs, counting their time against the CPU limit. */
export function runPendingJobs(inst: Bridged): void {
  inst.meter.enter();
  try {
    const r = inst.rt.executePendingJobs();
    if (r.error) r.error.dispose();
  } finally {
    inst.meter.leave();
  }
}
