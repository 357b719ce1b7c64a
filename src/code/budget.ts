import { ApiError } from '../errors.js';
import type { CodeCaps } from './limits.js';

/**
 * What one incoming request's code may still spend, shared by every nested self-client call it
 * makes (docs/isolation.md): CPU time, a wall-clock deadline, and a number of self-calls. Lives
 * while the request's first code call runs; nested calls find it by the id in the self-call header.
 */
export class RequestBudget {
  cpuLeftMs: number;
  selfCalls = 0;
  readonly deadline: number;

  constructor(
    readonly id: string,
    readonly caps: CodeCaps,
  ) {
    this.cpuLeftMs = caps.cpuTimeMs;
    this.deadline = performance.now() + caps.wallTimeMs;
  }

  /** Counts one self-client call, refused past the cap. */
  selfCall(): void {
    if (++this.selfCalls > this.caps.selfCalls) {
      throw new ApiError(
        508,
        'SELF_CALL_LIMIT_EXCEEDED',
        `this request's code made more than ${this.caps.selfCalls} self-client calls`,
        `a request's code endpoints may make ${this.caps.selfCalls} self-client calls at all depths together (APINODE_CODE_MAX_SELF_CALLS): look for a fan-out in the generation's code`,
      );
    }
  }

  /** Milliseconds left before the request's deadline. */
  wallLeftMs(): number {
    return this.deadline - performance.now();
  }
}

/** The live budgets of the requests whose code is running, by id. */
export class Budgets {
  private readonly live = new Map<string, RequestBudget>();

  open(caps: CodeCaps): RequestBudget {
    const id = Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) => b.toString(16).padStart(2, '0')).join('');
    const budget = new RequestBudget(id, caps);
    this.live.set(id, budget);
    return budget;
  }

  get(id: string): RequestBudget | undefined {
    return this.live.get(id);
  }

  close(budget: RequestBudget): void {
    this.live.delete(budget.id);
  }
}
