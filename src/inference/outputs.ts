import { ModelError, type TensorInfo, type TensorValue } from './model-runtime.js';

/** The model's input or output of that name, which must be a tensor; else an Error listing what the model has. */
export function find(infos: readonly TensorInfo[], name: string, what: string): TensorInfo {
  const info = infos.find((i) => i.name === name);
  if (!info) throw new Error(`the model has no ${what} "${name}" (${what}s: ${infos.map((i) => i.name).join(', ')})`);
  if (!info.isTensor) throw new Error(`model ${what} "${name}" is not a tensor`);
  return info;
}

/** An output's values as numbers, checking there are as many as the shape the manifest implies. */
export function numbers(out: Readonly<Record<string, TensorValue>>, name: string, expected: number): ArrayLike<number> {
  const t = out[name] as TensorValue;
  if (t.data.length !== expected) throw new ModelError(`model output "${name}" has ${t.data.length} values, expected ${expected} (dims [${t.dims.join(',')}])`);
  if (Array.isArray(t.data) || t.data instanceof BigInt64Array) throw new ModelError(`model output "${name}" is not a float tensor`);
  return t.data;
}
