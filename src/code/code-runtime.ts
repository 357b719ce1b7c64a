import type { CodeSpec } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { sha256Hex } from './hash.js';
import type { CodeSandbox, HostApi, KeptInstance } from './sandbox.js';
import { SelfClients } from './self-client.js';
export type { SandboxWasm } from './sandbox.js';

/** Who is calling user code: the values a call's host API is built from (no HTTP framework). */
export interface CodeCall {
  readonly requestId: string;
  readonly serviceId: string;
  readonly endpointId: string;
  readonly generation: string;
  readonly authorization: string | undefined;
  readonly selfCall: string | undefined;
}

/**
 * A code endpoint's module, loaded with its generation: the text (hash-checked) and, with
 * `keepState`, the sandbox state kept across calls, freed when the generation is disposed.
 */
export class CodeModule {
  constructor(
    readonly code: CodeSpec,
    readonly source: string,
    readonly kept: KeptInstance | undefined,
    private readonly sandbox: CodeSandbox,
  ) {}

  get bytes(): number {
    return this.source.length * 2;
  }

  dispose(): void {
    if (this.kept) this.sandbox.release(this.kept);
  }
}

/**
 * What code endpoints run on: one QuickJS sandbox per node instance and the in-process
 * self-clients user code calls other endpoints with.
 */
export class CodeRuntime {
  private readonly selfClients: SelfClients;

  constructor(
    readonly sandbox: CodeSandbox,
    selfFetch: (req: Request) => Promise<Response>,
    private readonly log: Logger,
  ) {
    this.selfClients = new SelfClients(selfFetch);
  }

  /** The module's text, refused unless its SHA-256 is the manifest's, and its kept state if any. */
  async load(files: { readonly generation: string; read(path: string): Promise<Uint8Array> }, code: CodeSpec): Promise<CodeModule> {
    const bytes = await files.read(code.file);
    const actual = await sha256Hex(bytes);
    if (actual !== code.sha256) {
      throw new ApiError(500, 'GENERATION_BROKEN', `The code file ${code.file} of generation "${files.generation}" does not match its recorded hash`, `sha256 ${actual}, manifest says ${code.sha256}`);
    }
    return new CodeModule(code, new TextDecoder().decode(bytes), code.keepState ? this.sandbox.keep() : undefined, this.sandbox);
  }

  /** What user code may reach for one call: the log, a self-client with the caller's credentials, and `extra` groups. */
  host(call: CodeCall, extra: HostApi['groups'] = {}): HostApi {
    const where = { requestId: call.requestId, serviceId: call.serviceId, endpointId: call.endpointId, generation: call.generation };
    const client = this.selfClients.client({ serviceId: call.serviceId, authorization: call.authorization, requestId: call.requestId, selfCall: call.selfCall });
    return {
      log: (level, message) => (level === 'error' || level === 'warn' ? this.log.warn : this.log.info)('user code', { ...where, console: level, message }),
      groups: { ...extra, client },
      context: where,
    };
  }
}
