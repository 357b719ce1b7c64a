/**
 * onnxruntime-web's WebAssembly heap, seen from outside: its threaded build creates one shared
 * WebAssembly.Memory (maximum 4 GiB) and passes it as an import to WebAssembly.instantiate.
 * Wrapping instantiate once, before the first session is created, finds it. The heap grows with
 * the largest run so far and never shrinks (WebAssembly memory cannot), so its size is the high
 * water mark of everything onnxruntime has run in this isolate. Runtime-free: only the
 * WebAssembly global; Workers route instantiate to a precompiled module and do not use it.
 */
export function watchWasmHeap(): () => number {
  const memories: WebAssembly.Memory[] = [];
  const wasm = WebAssembly as unknown as { instantiate: (...args: unknown[]) => Promise<unknown> };
  const original = wasm.instantiate;
  wasm.instantiate = async function (this: unknown, ...args: unknown[]) {
    const result = await original.apply(this, args);
    for (const module of Object.values((args[1] ?? {}) as Record<string, unknown>)) {
      for (const value of Object.values((module ?? {}) as Record<string, unknown>)) {
        // The shared memory is onnxruntime's (QuickJS's is its own, exported and not shared).
        if (value instanceof WebAssembly.Memory && value.buffer instanceof SharedArrayBuffer) memories.push(value);
      }
    }
    return result;
  };
  return () => memories.reduce((n, m) => n + m.buffer.byteLength, 0);
}
