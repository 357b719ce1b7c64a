import type { Context } from 'hono';
import { isPredictionEndpoint, type CodeSpec, type CustomPredictionEndpointSpec, type FunctionEndpointSpec, type PredictionResult } from '@apinode/protocol';
import type { Bound } from '../api/call.js';
import type { AppEnv, Deps } from '../api/env.js';
import { ApiError } from '../errors.js';
import type { FeatureRecord } from '../inference/encoding.js';
import type { Generation } from '../services/generations.js';
import { sha256Hex } from './hash.js';
export type { SandboxWasm } from './sandbox.js';
import { CodeSandbox, type HostApi, type KeptInstance, type SandboxWasm } from './sandbox.js';
import { SELF_CALL_HEADER, SelfClients } from './self-client.js';
import { parseParameters, type Parameter } from './signature.js';
import { checkResult } from './custom-result.js';

type CodeEndpoint = FunctionEndpointSpec | CustomPredictionEndpointSpec;
type BoundTo<E> = Bound & { endpoint: E };

/** What a function call answers, before apiContext: `timing` in microseconds. */
export interface FunctionAnswer {
  response: unknown;
  timing: { preProcessing: number; wait: number; execution: number; functionInternal: number };
}

/**
 * FUNCTION and CUSTOM_PREDICTION endpoints: loads a generation's code (hash-checked), binds
 * arguments, and runs the code in the sandbox with the host API of its kind.
 */
export class CodeEndpoints {
  readonly sandbox: CodeSandbox;
  private readonly selfClients: SelfClients;
  private readonly sources = new WeakMap<Generation, Map<string, Promise<string>>>();
  private readonly signatures = new WeakMap<CodeEndpoint, Promise<Parameter[]>>();
  private readonly kept = new WeakMap<CodeEndpoint, KeptInstance>();
  /** Kept states die with their endpoint spec (when its generation leaves the manifest cache). */
  private readonly keptReleaser = new FinalizationRegistry<KeptInstance>((k) => this.sandbox.release(k));

  constructor(
    private readonly deps: Deps,
    wasm: SandboxWasm | undefined,
    selfFetch: (req: Request) => Promise<Response>,
  ) {
    this.sandbox = new CodeSandbox(wasm);
    this.selfClients = new SelfClients(selfFetch);
  }

  /** `run`: binds named arguments to the function's parameters and calls it. */
  async run(c: Context<AppEnv>, b: BoundTo<FunctionEndpointSpec>, args: Record<string, unknown>): Promise<FunctionAnswer> {
    const preProcessing = Math.round((performance.now() - c.get('startedAt')) * 1000);
    const t0 = performance.now();
    const source = await this.source(b.generation, b.endpoint.code);
    const params = await this.parameters(b.endpoint, source);
    const positional = bindArguments(b.endpoint.function, params, args);
    const out = await this.sandbox.run(
      { source, file: b.endpoint.code.file, exportName: b.endpoint.function, invocations: [positional], limits: b.endpoint.code.limits, host: this.host(c, b) },
      this.keptFor(b.endpoint),
    );
    const execution = Math.round((performance.now() - t0) * 1000);
    return { response: out.values[0], timing: { preProcessing, wait: out.startUs, execution, functionInternal: out.cpuUs } };
  }

  /** predict / predict-multi / predict-simple on a CUSTOM_PREDICTION endpoint: `predict(features, ctx)` per record. */
  async predict(c: Context<AppEnv>, b: BoundTo<CustomPredictionEndpointSpec>, records: readonly FeatureRecord[]) {
    const preProcessing = Math.round((performance.now() - c.get('startedAt')) * 1000);
    const t0 = performance.now();
    const source = await this.source(b.generation, b.endpoint.code);
    const loaded = Math.round((performance.now() - t0) * 1000);
    const out = await this.sandbox.run(
      {
        source,
        file: b.endpoint.code.file,
        exportName: b.endpoint.function,
        invocations: records.map((r) => [r]),
        ctxGroup: 'models',
        limits: b.endpoint.code.limits,
        host: this.host(c, b),
      },
      this.keptFor(b.endpoint),
    );
    const post = performance.now();
    const results: PredictionResult[] = out.values.map((v, i) => checkResult(b.endpoint, v, i));
    const timing = { preProcessing, wait: loaded + out.startUs, enrich: 0, preparation: 0, prediction: out.cpuUs, postProcessing: Math.round((performance.now() - post) * 1000) };
    return { results, timing };
  }

  /** The module's text, read once per generation and refused unless its SHA-256 is the manifest's. */
  source(gen: Generation, code: CodeSpec): Promise<string> {
    let files = this.sources.get(gen);
    if (!files) this.sources.set(gen, (files = new Map()));
    let p = files.get(code.file);
    if (!p) {
      p = this.deps.generations.file(gen, code.file).then(async (bytes) => {
        const actual = await sha256Hex(bytes);
        if (actual !== code.sha256) {
          throw new ApiError(500, 'GENERATION_BROKEN', `The code file ${code.file} of generation "${gen.id}" does not match its recorded hash`, `sha256 ${actual}, manifest says ${code.sha256}`);
        }
        return new TextDecoder().decode(bytes);
      });
      p.catch(() => files.delete(code.file)); // failures are not cached
      files.set(code.file, p);
    }
    return p;
  }

  /** Declared parameters, else the ones read from the function's source (once per endpoint). */
  private parameters(spec: FunctionEndpointSpec, source: string): Promise<Parameter[]> {
    let p = this.signatures.get(spec);
    if (!p) {
      p = this.sandbox.inspect(source, spec.code.file, spec.code.limits).then((shape) => resolveParameters(spec, shape.sources[spec.function]));
      p.catch(() => this.signatures.delete(spec));
      this.signatures.set(spec, p);
    }
    return p;
  }

  private keptFor(spec: CodeEndpoint): KeptInstance | undefined {
    if (!spec.code.keepState) return undefined;
    let k = this.kept.get(spec);
    if (!k) {
      this.kept.set(spec, (k = this.sandbox.keep()));
      this.keptReleaser.register(spec, k);
    }
    return k;
  }

  /** What user code may reach for this one call: the log, a self-client with the caller's credentials, the generation's models. */
  private host(c: Context<AppEnv>, b: Bound): HostApi {
    const requestId = c.get('requestId');
    const where = { requestId, serviceId: b.service.serviceId, endpointId: b.endpoint.id, generation: b.generation.id };
    const client = this.selfClients.client({ serviceId: b.service.serviceId, authorization: c.req.header('authorization'), requestId, selfCall: c.req.header(SELF_CALL_HEADER) });
    const groups: HostApi['groups'] = b.endpoint.type === 'CUSTOM_PREDICTION' ? { client, models: this.models(b.generation) } : { client };
    return {
      log: (level, message) => (level === 'error' || level === 'warn' ? this.deps.log.warn : this.deps.log.info)('user code', { ...where, console: level, message }),
      groups,
      context: where,
    };
  }

  /** ctx.predict / ctx.predictRecords: the generation's own prediction models, scored in-process. */
  private models(gen: Generation) {
    const score = async (endpointId: unknown, records: FeatureRecord[]) => {
      const spec = gen.endpoints.get(String(endpointId));
      if (!spec || !isPredictionEndpoint(spec)) throw new Error(`"${String(endpointId)}" is not a prediction endpoint of generation "${gen.id}"`);
      const lease = await this.deps.generations.model(gen, spec);
      try {
        return (await lease.value.score(records)).results;
      } finally {
        lease.release();
      }
    };
    return {
      predict: async (endpointId: unknown, features: unknown) => (await score(endpointId, [asRecord(features)]))[0],
      predictRecords: (endpointId: unknown, records: unknown) => score(endpointId, Array.isArray(records) ? records.map(asRecord) : [asRecord(records)]),
    };
  }
}

const asRecord = (v: unknown): FeatureRecord => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as FeatureRecord) : {});

/** The manifest's parameters (optional where the signature gives a default), else the signature's. */
export function resolveParameters(spec: FunctionEndpointSpec, source: string | undefined): Parameter[] {
  const parsed = source ? parseParameters(source) : null;
  if (spec.parameters) {
    const optional = new Set(parsed?.filter((p) => p.optional).map((p) => p.name));
    return spec.parameters.map((name) => ({ name, optional: optional.has(name) }));
  }
  if (!parsed) throw new ApiError(500, 'CODE_ERROR', `The parameters of "${spec.function}" cannot be read from its signature: declare them in the manifest (parameters)`);
  return parsed;
}

/** Named arguments in parameter order; an unknown or a missing required one is a 400 naming it. */
export function bindArguments(fn: string, params: readonly Parameter[], args: Record<string, unknown>): unknown[] {
  const names = new Set(params.map((p) => p.name));
  const takes = params.length ? `${fn} takes ${params.map((p) => (p.optional ? `${p.name}?` : p.name)).join(', ')}` : `${fn} takes no arguments`;
  for (const k of Object.keys(args)) if (!names.has(k)) throw ApiError.badRequest('UNKNOWN_ARGUMENT', `Unknown argument "${k}": ${takes}`);
  const missing = params.find((p) => !p.optional && !(p.name in args));
  if (missing) throw ApiError.badRequest('MISSING_ARGUMENT', `Missing argument "${missing.name}": ${takes}`);
  // An absent optional stays undefined, so the function's own default applies.
  return params.map((p) => args[p.name]);
}

/** GET query values: JSON numbers, booleans, null, objects and arrays are decoded; anything else stays a string. */
export function decodeQueryValue(v: string): unknown {
  if (!/^(-?\d|true$|false$|null$|[[{"])/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
