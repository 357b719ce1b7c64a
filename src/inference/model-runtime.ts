/** Tensor element types the node feeds and reads. */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

export interface TensorValue {
  readonly type: TensorType;
  readonly data: TensorData;
  readonly dims: readonly number[];
}

/** A dimension: a fixed size, or null when dynamic (named or unnamed). */
export type Dim = number | null;

export interface TensorInfo {
  readonly name: string;
  readonly isTensor: boolean;
  /** Element type when the value is a tensor of a supported type. */
  readonly type: TensorType | undefined;
  readonly dims: readonly Dim[] | undefined;
}

/** A loaded model, ready to run. Runs may overlap. */
export interface ModelSession {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Runs the model and returns only the requested (tensor) outputs. */
  run(feeds: Readonly<Record<string, TensorValue>>, fetches: readonly string[]): Promise<Record<string, TensorValue>>;
  release(): void;
}

/** The model runtime port: onnxruntime-web, built by each runtime entry the way its platform needs. */
export interface ModelRuntime {
  load(model: Uint8Array): Promise<ModelSession>;
  /**
   * Bytes of the runtime's WebAssembly heap (it grows, never shrinks) where the platform lets
   * the node see it. @default - unknown (Workers)
   */
  heapBytes?(): number;
  /**
   * A throwaway runtime for an import's model checks (Node: a worker thread with its own
   * onnxruntime), so a hostile model's allocations and time never stay in the serving one;
   * `close()` ends it and returns its memory. @default - the import checks in this runtime
   */
  isolated?(budget: ImportModelBudget): Promise<IsolatedModelRuntime>;
  /** What an import lets one model endpoint use (operator settings). @default DEFAULT_IMPORT_MODEL_BUDGET */
  readonly importBudget?: ImportModelBudget;
}

/** A model runtime of its own for one import; a run longer than the budget ends it (every call then fails). */
export interface IsolatedModelRuntime extends ModelRuntime {
  /** Why it was ended for exceeding its budget (then every call fails), or null. */
  expired(): string | null;
  close(): Promise<void>;
}

/**
 * The model runtime refused a model or a run, or a model answered what its manifest does not
 * describe: the model's fault, neither the caller's nor the node's. The message is ours, for
 * the generation's author (import problems); the runtime's own error is the cause, for logs.
 */
export class ModelError extends Error {}

/**
 * onnxruntime itself failed while running a loaded model (docs/isolation-models.md): it could
 * not allocate what the run needs (`resources`: 503, the client may retry, smaller), the graph
 * failed on this input (`graph`: a bad shape, an operator error: 500), or the run did not end
 * within the node's time for one run, or could not start within it (`time`: 503; the thread
 * running it was ended). The session that failed is replaced before its next run.
 */
export class ModelRuntimeError extends ModelError {
  constructor(
    message: string,
    readonly kind: 'resources' | 'graph' | 'time',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Words of onnxruntime (and of WebAssembly) that mean an allocation failed, not the graph. */
const RESOURCES = /alloc|out of memory|memory access out of bounds|SafeInt|overflow|Aborted\(|RangeError|too large/i;

/** Which kind of run failure onnxruntime's error is. */
export const runFailureKind = (e: unknown): ModelRuntimeError['kind'] => (RESOURCES.test(e instanceof Error ? `${e.name}: ${e.message}` : String(e)) ? 'resources' : 'graph');

/**
 * onnxruntime's text, without what is internal to it: the "ERROR_CODE: n, ERROR_MESSAGE:"
 * wrapping, its source paths and line numbers, C++ signatures, anything after the first line.
 */
export function runtimeMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (/ERROR_MESSAGE:\s*([\s\S]*)/.exec(text)?.[1] ?? text)
    .split('\n', 1)[0]!
    .replace(/\S*\/\S+\.(?:cc|cpp|h|hpp|c):\d+\s*/g, '')
    .replace(/\b\w+(?:::~?\w+)+\([^)]*\)\s*/g, '')
    .trim()
    .slice(0, 300);
}

/** What an import lets one model endpoint's check (load and example run) use. */
export interface ImportModelBudget {
  readonly maxMs: number;
  /** Growth of the runtime's WebAssembly heap during the check. */
  readonly maxMemoryBytes: number;
}

/** The defaults of APINODE_IMPORT_MODEL_MAX_MS and APINODE_IMPORT_MODEL_MAX_MEMORY_MIB. */
export const DEFAULT_IMPORT_MODEL_BUDGET: ImportModelBudget = { maxMs: 5_000, maxMemoryBytes: 1024 * 2 ** 20 };

/** An isolated runtime stopped a call that ran past its budget (the worker was ended). */
export class ModelBudgetExceeded extends Error {}
