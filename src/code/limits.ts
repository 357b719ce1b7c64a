/**
 * What the operator allows code endpoints (APINODE_CODE_MAX_*), and a manifest's limits within
 * it: refused at import when they ask for more, clamped at run time (the operator may lower the
 * caps after an import). docs/isolation.md.
 */
import type { CodeLimits } from '@apinode/protocol';

export interface CodeCaps {
  /** CPU time one request's code may spend, its nested self-calls included, and any one call. */
  readonly cpuTimeMs: number;
  /** Wall-clock time of one request's code, its nested self-calls included. */
  readonly wallTimeMs: number;
  /** Heap of one sandbox. */
  readonly memoryMiB: number;
  /** Self-client calls one request's code may make, at every depth together. */
  readonly selfCalls: number;
  /** Largest answer of one code call, in bytes of JSON. */
  readonly answerBytes: number;
}

export const DEFAULT_CODE_CAPS: CodeCaps = { cpuTimeMs: 10_000, wallTimeMs: 30_000, memoryMiB: 256, selfCalls: 100, answerBytes: 8 * 1024 * 1024 };
/** A call's wall-clock deadline when its manifest sets none. */
export const DEFAULT_WALL_MS = 10_000;

/** The limits of one call: the manifest's, within the operator's caps. */
export interface EffectiveLimits extends CodeLimits {
  readonly wallTimeMs: number;
}

export function effectiveLimits(limits: CodeLimits, caps: CodeCaps): EffectiveLimits {
  return {
    cpuTimeMs: Math.min(limits.cpuTimeMs, caps.cpuTimeMs),
    memoryMiB: Math.min(limits.memoryMiB, caps.memoryMiB),
    wallTimeMs: Math.min(limits.wallTimeMs ?? DEFAULT_WALL_MS, caps.wallTimeMs),
  };
}

/** What a manifest asks beyond the caps, as import problems. */
export function capProblems(limits: CodeLimits, caps: CodeCaps): string[] {
  const over: [string, number | undefined, number, string][] = [
    ['cpuTimeMs', limits.cpuTimeMs, caps.cpuTimeMs, 'APINODE_CODE_MAX_CPU_MS'],
    ['memoryMiB', limits.memoryMiB, caps.memoryMiB, 'APINODE_CODE_MAX_MEMORY_MIB'],
    ['wallTimeMs', limits.wallTimeMs, caps.wallTimeMs, 'APINODE_CODE_MAX_WALL_MS'],
  ];
  return over.filter(([, asked, cap]) => asked !== undefined && asked > cap).map(([name, asked, cap, variable]) => `code.limits.${name} ${asked} is above what this node allows (${cap}, ${variable})`);
}
