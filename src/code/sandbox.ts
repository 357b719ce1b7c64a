import type { CodeLimits } from '@apinode/protocol';
import type { CodeEngine, KeptState, ModuleShape } from './engine.js';
import { DEFAULT_CODE_CAPS, type CodeCaps } from './limits.js';
import { LocalEngine, type SandboxWasm } from './local-engine.js';
import type { SandboxCall, SandboxResult } from './sandbox-instance.js';

export type { HostApi } from './host-bridge.js';
export type { CodeEngine, KeptState, ModuleShape } from './engine.js';
export type { CodeCaps } from './limits.js';
export type { SandboxWasm } from './local-engine.js';
export { KeptInstance, type Instance, type SandboxCall, type SandboxResult } from './sandbox-instance.js';

export interface SandboxOptions {
  /** Where calls run. @default - a LocalEngine in this thread */
  readonly engine?: CodeEngine;
  /** What the operator allows (APINODE_CODE_MAX_*). @default DEFAULT_CODE_CAPS */
  readonly caps?: CodeCaps;
}

/**
 * The code sandbox the node calls: its engine (this thread, or a pool of threads on Node and
 * Lambda) and the operator's caps that imports are checked against and calls clamped to
 * (docs/isolation.md). QuickJS compiled to WebAssembly either way (src/code/local-engine.ts).
 */
export class CodeSandbox implements CodeEngine {
  readonly engine: CodeEngine;
  readonly caps: CodeCaps;

  constructor(wasm?: SandboxWasm, options: SandboxOptions = {}) {
    this.engine = options.engine ?? new LocalEngine(wasm);
    this.caps = options.caps ?? DEFAULT_CODE_CAPS;
  }

  /** Milliseconds the last WebAssembly instantiation took, when this thread runs the calls. */
  get startMs(): number {
    return this.engine instanceof LocalEngine ? this.engine.startMs : 0;
  }

  async start(): Promise<void> {
    await this.engine.start?.();
  }

  inspect(source: string, file: string, limits: CodeLimits): Promise<ModuleShape> {
    return this.engine.inspect(source, file, limits);
  }

  run(call: SandboxCall, kept?: KeptState): Promise<SandboxResult> {
    return this.engine.run(call, kept);
  }

  keep(): KeptState {
    return this.engine.keep();
  }

  release(kept: KeptState): void {
    this.engine.release(kept);
  }

  async close(): Promise<void> {
    await this.engine.close?.();
  }
}
