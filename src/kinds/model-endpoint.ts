import type { ModelRuntime } from '../inference/model-runtime.js';
import type { Compiled, GenerationFiles, KindServices } from './kind.js';

/** A loaded ONNX model of any kind: what it weighs, and its session to release. */
export interface LoadedModel {
  readonly bytes: number;
  release(): void;
}

/** A kind whose endpoint is one ONNX model (forecast, causal): the model is the compiled endpoint. */
export class ModelEndpoint<M extends LoadedModel> implements Compiled {
  constructor(readonly model: M) {}

  get bytes(): number {
    return this.model.bytes;
  }

  dispose(): void {
    this.model.release();
  }
}

/** Loads the endpoint's model file into the model runtime with `load`. */
export async function loadModel<M extends LoadedModel>(
  spec: { readonly model: { readonly file: string } },
  files: GenerationFiles,
  services: KindServices,
  load: (onnx: Uint8Array, runtime: ModelRuntime) => Promise<M>,
): Promise<ModelEndpoint<M>> {
  return new ModelEndpoint(await load(await files.read(spec.model.file), services.models));
}
