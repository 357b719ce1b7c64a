/**
 * Where user code runs, behind one interface: in this thread (Workers, tests, the CLI) or in a
 * pool of threads (Node, Lambda: src/runtime/code-pool.ts), injected through the app's ports.
 */
import type { CodeLimits } from '@apinode/protocol';
import type { SandboxCall, SandboxResult } from './sandbox-instance.js';

/** A module that evaluated, and what it exports. */
export interface ModuleShape {
  readonly exports: Record<string, 'function' | 'value'>;
  /** Source text of each exported function (QuickJS keeps it), to read parameter names from. */
  readonly sources: Record<string, string>;
}

/** A state kept across calls (`keepState`): opaque, each engine has its own. */
export type KeptState = object;

export interface CodeEngine {
  /** Gets ready now (it is otherwise done on first use). */
  start?(): Promise<void>;
  /** Evaluates a module (at import) and describes its exports. */
  inspect(source: string, file: string, limits: CodeLimits): Promise<ModuleShape>;
  /** Runs the call in a fresh runtime, or in `kept` when given. */
  run(call: SandboxCall, kept?: KeptState): Promise<SandboxResult>;
  keep(): KeptState;
  release(kept: KeptState): void;
  /** Stops whatever the engine started (threads). */
  close?(): Promise<void>;
}

/** What a runtime's engine factory is given (APINODE_CODE_WORKERS, APINODE_CODE_RECYCLE_MIB). */
export interface CodeEngineOptions {
  /** Most threads running calls at once. */
  readonly workers: number;
  /** A thread whose WebAssembly memory passed this after a call is replaced. */
  readonly recycleMiB: number;
}
