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
}

/**
 * The model runtime refused a model or a run, or a model answered what its manifest does not
 * describe: the model's fault, neither the caller's nor the node's. The message is ours, for
 * the generation's author (import problems); the runtime's own error is the cause, for logs.
 */
export class ModelError extends Error {}

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
