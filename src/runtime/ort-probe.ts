import type * as ort from 'onnxruntime-common';

/** An Identity model (101 bytes; src/runtime/worker.ts holds the same): loading it starts onnxruntime. */
const PROBE = Uint8Array.from(atob('CAgSEmFwaW5vZGUtZGVtby1idWlsZDpHChwKAXgSAXkaCklkZW50aXR5XzAiCElkZW50aXR5EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0='), (c) => c.charCodeAt(0));

/**
 * Compiles and starts onnxruntime's WebAssembly now (Node start-up, Lambda's init phase) rather
 * than in the first predict. Never rejects: a runtime that cannot start says so on first use.
 */
export function startOrt(o: { InferenceSession: Pick<typeof ort.InferenceSession, 'create'> }): Promise<void> {
  return o.InferenceSession.create(PROBE).then(
    (s) => void s.release(),
    () => undefined,
  );
}
