import type { CodeSpec } from '@apinode/protocol';
import { ApiError, isApiError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { Budgets, type RequestBudget } from './budget.js';
import type { KeptState } from './engine.js';
import { sha256Hex } from './hash.js';
import { effectiveLimits } from './limits.js';
import { deadlineError } from './sandbox-errors.js';
import type { CodeSandbox, HostApi, SandboxResult } from './sandbox.js';
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

/** What to call in a module: one export, once per argument list. */
export interface Invocation {
  readonly exportName: string;
  readonly invocations: readonly unknown[][];
  /** Append `apinode[group]` as a last argument of each invocation (custom prediction's ctx). */
  readonly ctxGroup?: string;
}

/**
 * A code endpoint's module, loaded with its generation: the text (hash-checked) and, with
 * `keepState`, the sandbox state kept across calls, freed when the generation is disposed.
 */
export class CodeModule {
  constructor(
    readonly code: CodeSpec,
    readonly source: string,
    readonly kept: KeptState | undefined,
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
 * What code endpoints run on: the sandbox (its engine and the operator's caps), the in-process
 * self-clients user code calls other endpoints with, and the budgets of the requests running.
 */
export class CodeRuntime {
  private readonly selfClients: SelfClients;
  private readonly budgets = new Budgets();

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

  /**
   * Calls the module within its limits, the operator's caps and what the request (the first code
   * call and every nested self-call together) has left of its budget.
   */
  async run(call: CodeCall, module: CodeModule, what: Invocation, extra: HostApi['groups'] = {}): Promise<SandboxResult> {
    const caps = this.sandbox.caps;
    const { budgetId } = this.selfClients.mark(call.selfCall);
    const budget = budgetId === undefined ? this.budgets.open(caps) : this.budgets.get(budgetId);
    if (!budget) throw new ApiError(500, 'CODE_DEADLINE_EXCEEDED', 'The request this self-client call was made for has ended', 'a self-client call arrived after the code call that made it had finished or was stopped');
    try {
      const limits = effectiveLimits(module.code.limits, caps);
      const wallMs = Math.min(limits.wallTimeMs, budget.wallLeftMs());
      if (wallMs <= 0) throw deadlineError(caps.wallTimeMs);
      const cpuTimeMs = Math.min(limits.cpuTimeMs, Math.floor(budget.cpuLeftMs));
      if (cpuTimeMs < 1) throw new ApiError(500, 'CODE_TIMEOUT', `This request's code has used its CPU time budget of ${caps.cpuTimeMs} ms`, 'the first code call and its nested self-client calls share APINODE_CODE_MAX_CPU_MS');
      const host = this.host(call, extra, budget);
      try {
        const out = await this.sandbox.run(
          { source: module.source, file: module.code.file, ...what, limits: { cpuTimeMs, memoryMiB: limits.memoryMiB }, wallMs, maxAnswerBytes: caps.answerBytes, host },
          module.kept,
        );
        budget.cpuLeftMs -= out.cpuUs / 1000;
        return out;
      } catch (e) {
        if (isApiError(e) && e.errorType === 'CODE_TIMEOUT') budget.cpuLeftMs -= cpuTimeMs;
        throw e;
      }
    } finally {
      if (budgetId === undefined) this.budgets.close(budget);
    }
  }

  /** What user code may reach for one call: the log, a self-client with the caller's credentials, and `extra` groups. */
  host(call: CodeCall, extra: HostApi['groups'] = {}, budget?: RequestBudget): HostApi {
    const where = { requestId: call.requestId, serviceId: call.serviceId, endpointId: call.endpointId, generation: call.generation };
    const client = this.selfClients.client({ serviceId: call.serviceId, authorization: call.authorization, requestId: call.requestId, selfCall: call.selfCall }, budget);
    return {
      log: (level, message) => (level === 'error' || level === 'warn' ? this.log.warn : this.log.info)('user code', { ...where, console: level, message }),
      groups: { ...extra, client },
      context: where,
    };
  }
}
