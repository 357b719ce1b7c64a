import type * as ort from 'onnxruntime-common';
import { ModelError, ModelRuntimeError, runFailureKind, runtimeMessage, type Dim, type ModelRuntime, type ModelSession, type TensorInfo, type TensorType, type TensorValue } from './model-runtime.js';

/** What the node uses of an onnxruntime module (onnxruntime-web's default or /wasm entry). */
export interface OrtModule {
  InferenceSession: Pick<typeof ort.InferenceSession, 'create'>;
  Tensor: typeof ort.Tensor;
}

/** What a runtime entry adds to the adapter where its platform allows. */
export interface OrtOptions {
  /** onnxruntime's WebAssembly heap size (see wasm-heap.ts). @default - unknown */
  readonly heapBytes?: () => number;
  /** A throwaway runtime for import checks. @default - none: imports check in this runtime */
  readonly isolated?: ModelRuntime['isolated'];
  /** @default DEFAULT_IMPORT_MODEL_BUDGET */
  readonly importBudget?: ModelRuntime['importBudget'];
}

const SUPPORTED: ReadonlySet<string> = new Set<TensorType>(['float32', 'float64', 'int64', 'int32', 'string', 'bool']);
/** An unnamed dynamic dimension comes back as -1 read as uint32. */
const DYNAMIC_U32 = 4294967295;

function info(m: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!m.isTensor) return { name: m.name, isTensor: false, type: undefined, dims: undefined };
  const dims: Dim[] = m.shape.map((d) => (typeof d === 'number' && d !== DYNAMIC_U32 && d >= 0 ? d : null));
  return { name: m.name, isTensor: true, type: SUPPORTED.has(m.type) ? (m.type as TensorType) : undefined, dims };
}

const OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

/**
 * Adapts an onnxruntime module to the ModelRuntime port (single-threaded WASM CPU sessions).
 * A run onnxruntime fails (an allocation, an operator on this input) is a ModelRuntimeError, and
 * the session is replaced (created again from the model's bytes) before the next run: whatever
 * state the failure left in it never serves another request.
 */
export function ortModelRuntime(o: OrtModule, options: OrtOptions = {}): ModelRuntime {
  const create = (model: Uint8Array) =>
    o.InferenceSession.create(model, OPTIONS).catch((e: unknown) => {
      throw new ModelError(`onnxruntime cannot load the model: ${runtimeMessage(e)}`, { cause: e });
    });
  // Runs take turns, across every session of the runtime: in onnxruntime-web a run that fails
  // while another is in flight breaks it too (same session: "Cannot read properties of null"),
  // or loses its own error text (another session). Its runs are synchronous WebAssembly on one
  // thread anyway: taking turns costs a microtask, no throughput.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(run: () => Promise<T>): Promise<T> => {
    const mine = turn.then(run);
    turn = mine.catch(() => undefined);
    return mine;
  };
  return {
    ...(options.heapBytes ? { heapBytes: options.heapBytes } : {}),
    ...(options.isolated ? { isolated: options.isolated } : {}),
    ...(options.importBudget ? { importBudget: options.importBudget } : {}),
    async load(model: Uint8Array): Promise<ModelSession> {
      const first = await create(model);
      let current = slot(Promise.resolve(first));
      /** The next run gets a new session; this one is released once no run holds it. */
      const replace = (s: Slot) => {
        if (current === s) current = slot(create(model));
        retire(s);
      };
      return {
        inputs: first.inputMetadata.map(info),
        outputs: first.outputMetadata.map(info),
        run: (feeds, fetches) => inTurn(async () => {
          const s = current;
          s.active++;
          try {
            const session = await s.session.catch((e: unknown) => {
              replace(s); // a reload that failed is tried again by the next run
              throw e;
            });
            const ortFeeds: Record<string, ort.Tensor> = {};
            for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new o.Tensor(t.type, t.data as never, t.dims);
            const res = await session.run(ortFeeds, fetches as string[]).catch((e: unknown) => {
              replace(s);
              throw new ModelRuntimeError(`onnxruntime failed to run the model: ${runtimeMessage(e)}`, runFailureKind(e), { cause: e });
            });
            const out: Record<string, TensorValue> = {};
            for (const name of fetches) {
              const t = res[name];
              if (!t) throw new ModelError(`model did not return output "${name}"`);
              out[name] = { type: t.type as TensorType, data: t.data as TensorValue['data'], dims: t.dims };
            }
            return out;
          } finally {
            s.active--;
            if (s.retired && s.active === 0) dispose(s);
          }
        }),
        release() {
          retire(current);
        },
      };
    },
  };
}

interface Slot {
  readonly session: Promise<ort.InferenceSession>;
  /** Runs using it now. */
  active: number;
  retired: boolean;
  disposed: boolean;
}

function slot(session: Promise<ort.InferenceSession>): Slot {
  session.catch(() => undefined); // a failed reload is reported by the run that awaits it
  return { session, active: 0, retired: false, disposed: false };
}

function retire(s: Slot): void {
  if (s.retired) return;
  s.retired = true;
  if (s.active === 0) dispose(s);
}

function dispose(s: Slot): void {
  if (s.disposed) return;
  s.disposed = true;
  void s.session.then((x) => x.release()).catch(() => undefined);
}
