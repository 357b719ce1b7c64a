import type { FunctionEndpointSpec } from '@apinode/protocol';
import { z } from 'zod';
import { bindArguments, decodeQueryValue, resolveParameters } from '../code/arguments.js';
import type { CodeModule, CodeRuntime } from '../code/code-runtime.js';
import type { Parameter } from '../code/signature.js';
import { codeProblems } from '../code/validate.js';
import type { Action, CallContext, Compiled, EndpointKind, GenerationFiles, KindServices } from './kind.js';

export { FunctionEndpointSpec } from '@apinode/protocol';

type Args = Record<string, unknown>;
const Args = z.record(z.string(), z.unknown());

/** FUNCTION: an exported JavaScript function, called with named arguments (docs/code-endpoints.md). */
export class FunctionEndpoint implements Compiled {
  constructor(
    readonly spec: FunctionEndpointSpec,
    private readonly module: CodeModule,
    private readonly params: readonly Parameter[],
    private readonly code: CodeRuntime,
  ) {}

  get bytes(): number {
    return this.module.bytes;
  }

  /** Binds named arguments to the function's parameters and calls it; `timing` in microseconds. */
  async run(args: Args, call: CallContext) {
    const t0 = performance.now();
    const positional = bindArguments(this.spec.function, this.params, args);
    const out = await this.code.run(call, this.module, { exportName: this.spec.function, invocations: [positional] });
    const execution = Math.round((performance.now() - t0) * 1000);
    return { response: out.values[0], timing: { preProcessing: call.preProcessing, wait: call.wait + out.startUs, execution, functionInternal: out.cpuUs } };
  }

  dispose(): void {
    this.module.dispose();
  }
}

async function load(spec: FunctionEndpointSpec, files: GenerationFiles, services: KindServices): Promise<FunctionEndpoint> {
  const module = await services.code.load(files, spec.code);
  try {
    // Declared parameters, else the ones read from the function's source (which also says which are optional).
    const shape = await services.code.sandbox.inspect(module.source, spec.code.file, spec.code.limits);
    return new FunctionEndpoint(spec, module, resolveParameters(spec, shape.sources[spec.function]), services.code);
  } catch (e) {
    module.dispose();
    throw e;
  }
}

const run = (name: 'run', method: 'GET' | 'POST', input: Action<FunctionEndpoint, Args>['input']): Action<FunctionEndpoint, Args> => ({
  name,
  method,
  input,
  run: async (endpoint, args, call) => {
    const answer = await endpoint.run(args, call);
    return { body: answer, log: () => [{ features: args, result: { response: answer.response } }], timing: answer.timing };
  },
});

export const fn: EndpointKind<'FUNCTION', FunctionEndpoint> = {
  // `run`: named arguments as a JSON body (POST) or as query parameters (GET).
  actions: [run('run', 'POST', { body: Args }), run('run', 'GET', { query: (q) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, decodeQueryValue(v)])) })],
  load,
  preload: false,
  check: async (spec, ctx) => ({ problems: await codeProblems(spec, ctx.files, ctx.services.code.sandbox), examplesChecked: 0 }),
};
