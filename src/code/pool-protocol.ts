/**
 * The messages between the main thread and a code thread (src/runtime/code-pool.ts), and the
 * thread's side: a LocalEngine whose host doors (console, `apinode.<group>.<method>`) are
 * messages to the main thread, which holds the real ones. Plain data only: it is cloned.
 */
import type { CodeLimits } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { ErrorType, ErrorStatus } from '@apinode/protocol';
import type { KeptState } from './engine.js';
import type { HostApi } from './host-bridge.js';
import type { LocalEngine } from './local-engine.js';
import type { SandboxCall, SandboxResult } from './sandbox-instance.js';

/** An error as it crosses the thread wall. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly status?: number;
  readonly errorType?: string;
  readonly detailedMessage?: string;
  /** An ApiError's cause, in words (it is logged by the main thread). */
  readonly cause?: string;
}

/** A SandboxCall without its host functions: the group and method names say which exist. */
export type WireCall = Omit<SandboxCall, 'host'> & { readonly groups: Record<string, string[]>; readonly context: Record<string, unknown> };

export type ToThread =
  | { readonly t: 'run'; readonly id: number; readonly call: WireCall; readonly keptId?: number }
  | { readonly t: 'inspect'; readonly id: number; readonly source: string; readonly file: string; readonly limits: CodeLimits }
  | { readonly t: 'release'; readonly keptId: number }
  | { readonly t: 'host-done'; readonly id: number; readonly hid: number; readonly ok: boolean; readonly value?: unknown; readonly error?: WireError };

export type FromThread =
  /** Loaded, QuickJS instantiated: deadlines count from here. */
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly id: number; readonly ok: boolean; readonly value?: unknown; readonly error?: WireError; readonly memoryBytes: number }
  | { readonly t: 'log'; readonly id: number; readonly level: string; readonly message: string }
  | { readonly t: 'host'; readonly id: number; readonly hid: number; readonly group: string; readonly method: string; readonly args: unknown[] };

export function toWire(e: unknown): WireError {
  if (e instanceof ApiError) {
    const cause = e.cause === undefined ? undefined : String((e.cause as { stack?: string } | null)?.stack ?? e.cause).slice(0, 2000);
    return { name: 'ApiNodeError', message: e.message, status: e.status, errorType: e.errorType, detailedMessage: e.detailedMessage, ...(cause ? { cause } : {}) };
  }
  const x = e as { name?: unknown; message?: unknown; status?: unknown; errorType?: unknown } | null;
  return {
    name: typeof x?.name === 'string' ? x.name : 'Error',
    message: String(x?.message ?? e),
    ...(typeof x?.status === 'number' ? { status: x.status } : {}),
    ...(typeof x?.errorType === 'string' ? { errorType: x.errorType } : {}),
  };
}

/** The node's error again, on the main thread: what the sandbox answered, or a failure of the thread. */
export function fromWire(w: WireError): Error {
  if (w.errorType !== undefined && w.status !== undefined && w.detailedMessage !== undefined) {
    return new ApiError(w.status as ErrorStatus, w.errorType as ErrorType, w.message, w.detailedMessage, w.cause === undefined ? undefined : { cause: new Error(w.cause) });
  }
  return Object.assign(new Error(w.message), { name: w.name, status: w.status, errorType: w.errorType });
}

/** The thread's side: answers the main thread's messages with `engine`, sends its own with `post`. */
export function serveEngine(engine: LocalEngine, post: (m: FromThread) => void): (m: ToThread) => void {
  const kept = new Map<number, KeptState>();
  const hostCalls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextHid = 0;
  const finish = (id: number, work: Promise<unknown>) =>
    work.then(
      (value) => post({ t: 'done', id, ok: true, value, memoryBytes: engine.memoryBytes() }),
      (e: unknown) => post({ t: 'done', id, ok: false, error: toWire(e), memoryBytes: engine.memoryBytes() }),
    );
  const hostFor = (id: number, call: WireCall): HostApi => ({
    log: (level, message) => post({ t: 'log', id, level, message }),
    context: call.context,
    groups: Object.fromEntries(
      Object.entries(call.groups).map(([group, methods]) => [
        group,
        Object.fromEntries(
          methods.map((method) => [
            method,
            (...args: unknown[]) =>
              new Promise((resolve, reject) => {
                const hid = ++nextHid;
                hostCalls.set(hid, { resolve, reject });
                post({ t: 'host', id, hid, group, method, args });
              }),
          ]),
        ),
      ]),
    ),
  });
  return (m) => {
    switch (m.t) {
      case 'run': {
        const { groups, context, ...rest } = m.call;
        const call: SandboxCall = { ...rest, host: hostFor(m.id, { ...m.call, groups, context }) };
        let state: KeptState | undefined;
        if (m.keptId !== undefined) {
          state = kept.get(m.keptId) ?? engine.keep();
          kept.set(m.keptId, state);
        }
        void finish(m.id, engine.run(call, state) as Promise<SandboxResult>);
        break;
      }
      case 'inspect':
        void finish(m.id, engine.inspect(m.source, m.file, m.limits));
        break;
      case 'release': {
        const state = kept.get(m.keptId);
        kept.delete(m.keptId);
        if (state) engine.release(state);
        break;
      }
      case 'host-done': {
        const waiting = hostCalls.get(m.hid);
        hostCalls.delete(m.hid);
        if (m.ok) waiting?.resolve(m.value);
        else waiting?.reject(fromWire(m.error ?? { name: 'Error', message: 'host call failed' }));
        break;
      }
    }
  };
}
