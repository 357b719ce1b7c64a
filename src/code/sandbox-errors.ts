/**
 * Errors crossing the sandbox wall, both ways: a QuickJS exception or a WebAssembly crash
 * becomes the node's ApiError (never a stack trace), a host failure becomes an Error the user
 * code can catch (with the node's status and errorType).
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten-core';
import type { CodeLimits } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { CpuMeter } from './cpu-meter.js';

/** What the translation reads from an instance: the limit that stopped it is reported, not the engine's words. */
interface Stopped {
  readonly vm: QuickJSContext;
  readonly meter: CpuMeter;
  readonly limits: CodeLimits;
}

/** A QuickJS exception as the node's error: the limit that stopped it, or the user's message. Disposes `error`. */
export function exceptionError(inst: Stopped, error: QuickJSHandle, during: string): ApiError {
  let dumped: unknown;
  // Reading a thrown value runs the user's getters (message, toJSON, a Proxy's traps): on the meter.
  inst.meter.enter();
  try {
    dumped = inst.vm.dump(error);
  } catch {
    dumped = { message: 'unknown error' };
  } finally {
    inst.meter.leave();
    error.dispose();
  }
  const e = (typeof dumped === 'object' && dumped !== null ? dumped : { message: String(dumped) }) as { name?: string; message?: string; stack?: string; errorType?: unknown };
  const message = String(e.message ?? 'unknown error');
  if (inst.meter.interrupted) return timeoutError(inst.meter, during);
  if (/out of memory/i.test(message)) {
    return new ApiError(500, 'CODE_MEMORY_LIMIT', `The code exceeded its memory limit of ${inst.limits.memoryMiB} MiB`, `stopped while ${during}; raise code.limits.memoryMiB in the manifest if this is expected`);
  }
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  // Where in the user's module, in words: the answer carries no stack trace.
  const frame = typeof e.stack === 'string' ? /at (\S+) \(([^)]+):(\d+):(\d+)\)/.exec(e.stack) : null;
  const where = frame && !frame[2]!.includes('apinode-prelude') ? ` (in ${frame[1]}, ${frame[2]} line ${frame[3]})` : '';
  const text = `${name}${message}`.slice(0, 1000);
  // A request budget the code ran into through its self-client, left uncaught: the request
  // answers that budget's own error (508), at every level of the nesting, not a CODE_ERROR.
  const budget = typeof e.errorType === 'string' && Object.hasOwn(PROPAGATED, e.errorType) ? PROPAGATED[e.errorType] : undefined;
  if (budget) return new ApiError(budget.status, budget.type, message.slice(0, 1000), `${text}${where}`);
  return new ApiError(500, 'CODE_ERROR', text, `${text}${where}`);
}

/** Budget errors that pass through user code unchanged when it does not catch them (the status is ours, never the code's). */
const PROPAGATED: Readonly<Record<string, { readonly status: 508; readonly type: 'SELF_CALL_TOO_DEEP' | 'SELF_CALL_LIMIT_EXCEEDED' }>> = {
  SELF_CALL_TOO_DEEP: { status: 508, type: 'SELF_CALL_TOO_DEEP' },
  SELF_CALL_LIMIT_EXCEEDED: { status: 508, type: 'SELF_CALL_LIMIT_EXCEEDED' },
};

export function timeoutError(meter: CpuMeter, during: string): ApiError {
  return new ApiError(500, 'CODE_TIMEOUT', `The code exceeded its CPU time limit of ${meter.limitMs} ms`, `stopped while ${during}; raise code.limits.cpuTimeMs in the manifest if this is expected`);
}

/** The call ran past its wall-clock deadline (waits included): stopped in the sandbox or, in a pool, by ending its thread. */
export function deadlineError(wallMs: number): ApiError {
  return new ApiError(500, 'CODE_DEADLINE_EXCEEDED', `The code did not finish within its deadline of ${Math.round(wallMs)} ms`, 'the call, its waits and nested self-client calls included, ran past code.limits.wallTimeMs or the request\'s budget (docs/isolation.md)');
}

export function answerTooLarge(max: number, bytes: string): ApiError {
  return new ApiError(500, 'CODE_ANSWER_TOO_LARGE', `The code's answer is larger than this node allows (${max} bytes of JSON)`, `the answer has ${bytes} bytes of JSON; APINODE_CODE_MAX_ANSWER_BYTES is ${max}`);
}

/**
 * Anything but an ApiError means the WebAssembly module itself failed: `dropModule` makes the
 * next call start a new one instead of reusing it.
 */
export function crashError(e: unknown, dropModule: () => void): ApiError {
  if (e instanceof ApiError) return e;
  dropModule();
  // QuickJS's and the WebAssembly engine's own words go to the log (cause), not to the caller.
  return new ApiError(500, 'CODE_SANDBOX_FAILED', 'The code sandbox failed while running this call', 'the WebAssembly sandbox failed (logged); the next call starts a new one', { cause: e });
}

export function unavailableError(e: unknown): ApiError {
  return ApiError.unavailable('CODE_SANDBOX_UNAVAILABLE', 'The code sandbox could not start; retry shortly', 'the WebAssembly sandbox could not be instantiated (logged)', { cause: e });
}

/**
 * A host failure as an Error inside the sandbox, with the node's status and errorType when there
 * are. The node's own errors look like the client's (ApiNodeError): to user code, both are the
 * node's answer.
 */
export function hostErrorHandle(vm: QuickJSContext, err: unknown): QuickJSHandle {
  const e = err as { name?: string; message?: string; status?: number; errorType?: string };
  const h = vm.newError({ name: err instanceof ApiError ? 'ApiNodeError' : (e.name ?? 'Error'), message: String(e.message ?? err) });
  const props: [string, QuickJSHandle][] = [];
  if (typeof e.status === 'number') props.push(['status', vm.newNumber(e.status)]);
  if (typeof e.errorType === 'string') props.push(['errorType', vm.newString(e.errorType)]);
  for (const [k, v] of props) {
    vm.setProp(h, k, v);
    v.dispose();
  }
  return h;
}
