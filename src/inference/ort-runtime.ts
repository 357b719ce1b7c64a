import type * as ort from 'onnxruntime-common';
import { ModelError, runtimeMessage, type Dim, type ModelRuntime, type ModelSession, type TensorInfo, type TensorType, type TensorValue } from './model-runtime.js';

/** What the node uses of an onnxruntime module (onnxruntime-web's default or /wasm entry). */
export interface OrtModule {
  InferenceSession: Pick<typeof ort.InferenceSession, 'create'>;
  Tensor: typeof ort.Tensor;
}

const SUPPORTED: ReadonlySet<string> = new Set<TensorType>(['float32', 'float64', 'int64', 'int32', 'string', 'bool']);
/** An unnamed dynamic dimension comes back as -1 read as uint32. */
const DYNAMIC_U32 = 4294967295;

function info(m: ort.InferenceSession.ValueMetadata): TensorInfo {
  if (!m.isTensor) return { name: m.name, isTensor: false, type: undefined, dims: undefined };
  const dims: Dim[] = m.shape.map((d) => (typeof d === 'number' && d !== DYNAMIC_U32 && d >= 0 ? d : null));
  return { name: m.name, isTensor: true, type: SUPPORTED.has(m.type) ? (m.type as TensorType) : undefined, dims };
}

/** Adapts an onnxruntime module to the ModelRuntime port (single-threaded WASM CPU sessions). */
export function ortModelRuntime(o: OrtModule): ModelRuntime {
  return {
    async load(model: Uint8Array): Promise<ModelSession> {
      const session = await o.InferenceSession.create(model, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      }).catch((e: unknown) => {
        throw new ModelError(`onnxruntime cannot load the model: ${runtimeMessage(e)}`, { cause: e });
      });
      const inputs = session.inputMetadata.map(info);
      const outputs = session.outputMetadata.map(info);
      return {
        inputs,
        outputs,
        async run(feeds, fetches) {
          const ortFeeds: Record<string, ort.Tensor> = {};
          for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new o.Tensor(t.type, t.data as never, t.dims);
          const res = await session.run(ortFeeds, fetches as string[]).catch((e: unknown) => {
            throw new ModelError(`onnxruntime failed to run the model: ${runtimeMessage(e)}`, { cause: e });
          });
          const out: Record<string, TensorValue> = {};
          for (const name of fetches) {
            const t = res[name];
            if (!t) throw new ModelError(`model did not return output "${name}"`);
            out[name] = { type: t.type as TensorType, data: t.data as TensorValue['data'], dims: t.dims };
          }
          return out;
        },
        release() {
          void session.release();
        },
      };
    },
  };
}
