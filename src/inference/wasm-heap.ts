/**
 * onnxruntime-web's WebAssembly heap, seen from outside: its threaded build creates one shared
 * WebAssembly.Memory (maximum 4 GiB) and passes it as an import to WebAssembly.instantiate.
 * Wrapping instantiate once, before the first session is created, finds it. The heap grows with
 * the largest run so far and never shrinks (WebAssembly memory cannot), so its size is the high
 * water mark of everything onnxruntime has run in this isolate. Runtime-free: only the
 * WebAssembly global. On Workers (worker.ts) it wraps the wrapper that routes ORT's call to the
 * precompiled module: the imports it sees are the same, the shared memory among them.
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

/**
 * Caps the WebAssembly heap onnxruntime-web can grow to in this isolate (call before it starts):
 * shared memories (onnxruntime's threaded build creates one; QuickJS's is its own and not
 * shared) are created with their maximum lowered to `maxBytes`. A run that needs more fails
 * inside onnxruntime (`std::bad_alloc`, a `resources` ModelRuntimeError: 503) and the next run
 * of the same session succeeds (measured: docs/isolation-models.md), instead of the heap
 * growing to 4 GiB and staying there. `instanceof WebAssembly.Memory` still holds. Works the
 * same in workerd (shared memories and SharedArrayBuffer exist there; test/workers/model-heap.test.ts).
 */
export function capWasmHeap(maxBytes: number): void {
  const Memory = WebAssembly.Memory;
  const cap = Math.max(1, Math.floor(maxBytes / 65_536));
  class Capped extends Memory {
    constructor(d: WebAssembly.MemoryDescriptor) {
      super(d.shared ? { ...d, maximum: Math.min(d.maximum ?? cap, cap), initial: Math.min(d.initial, cap) } : d);
    }
  }
  (WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = Capped;
}
