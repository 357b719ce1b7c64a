/**
 * Messages between the serving (or import) thread and a model thread (src/runtime/model-thread.ts),
 * which runs onnxruntime-web behind the ModelRuntime port. Runtime-free: types, and errors to and
 * from the wire, so a typed ModelRuntimeError crosses as one.
 */
import { ModelError, ModelRuntimeError, type TensorInfo, type TensorValue } from './model-runtime.js';

/** What the parent gives a model thread at start. */
export interface ModelThreadData {
  /** onnxruntime's heap cap in the thread (capWasmHeap). */
  readonly maxHeapBytes: number;
  /** Yield the CPU to the serving thread (import checks): nice 10 on Linux. */
  readonly lowPriority: boolean;
}

export type ToModelThread =
  | { readonly t: 'load'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly t: 'run'; readonly id: number; readonly session: number; readonly feeds: Readonly<Record<string, TensorValue>>; readonly fetches: readonly string[] }
  | { readonly t: 'release'; readonly id: number; readonly session: number };

export interface Loaded {
  readonly session: number;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

export interface WireModelError {
  readonly message: string;
  /** ModelRuntimeError's kind; absent for a ModelError, null for anything else. */
  readonly kind?: ModelRuntimeError['kind'] | 'model' | null;
  /** onnxruntime's own words, for the log. */
  readonly cause?: string;
}

export type FromModelThread =
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly id: number; readonly heap: number; readonly value: Loaded | Record<string, TensorValue> | null }
  | { readonly t: 'done'; readonly id: number; readonly heap: number; readonly error: WireModelError };

export function modelErrorToWire(e: unknown): WireModelError {
  const cause = e instanceof Error && e.cause !== undefined ? String(e.cause instanceof Error ? e.cause.message : e.cause) : undefined;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ModelRuntimeError) return { message, kind: e.kind, ...(cause ? { cause } : {}) };
  if (e instanceof ModelError) return { message, kind: 'model', ...(cause ? { cause } : {}) };
  return { message, kind: null };
}

export function modelErrorFromWire(w: WireModelError): Error {
  const options = w.cause ? { cause: new Error(w.cause) } : undefined;
  if (w.kind === 'model') return new ModelError(w.message, options);
  if (w.kind) return new ModelRuntimeError(w.message, w.kind, options);
  return new Error(w.message);
}
