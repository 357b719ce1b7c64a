import { APINodeClient } from '@apinode/client';
import { ApiError } from '../errors.js';
import type { RequestBudget } from './budget.js';

/** Marks a request as made by user code through its self-client: `<node token>.<depth>.<budget id>`. */
export const SELF_CALL_HEADER = 'x-apinode-self-call';
/** A dispatcher may call a function that calls another…, this deep at most. */
export const MAX_SELF_CALL_DEPTH = 4;

/** The client's public methods: the self-client offers exactly these, so it cannot drift from the DSS-style client. */
const METHODS = Object.getOwnPropertyNames(APINodeClient.prototype).filter((m) => m !== 'constructor' && m !== 'post');

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * 508 Loop Detected: calls that nest this deep are a dispatcher calling itself (directly or
 * round a loop), a fault of the generation's code that retrying cannot fix; neither the
 * caller's input (400) nor a rate limit (429).
 */
const tooDeep = () =>
  new ApiError(508, 'SELF_CALL_TOO_DEEP', `self-client calls nest deeper than ${MAX_SELF_CALL_DEPTH} levels`, `a code endpoint's self-client calls nest deeper than ${MAX_SELF_CALL_DEPTH} levels: look for a loop between the generation's functions`);

export interface CallerCredentials {
  readonly serviceId: string;
  /** The caller's Authorization header, as received: used for this call's self-calls only. */
  readonly authorization: string | undefined;
  readonly requestId: string;
  /** The SELF_CALL_HEADER of the request, if any. */
  readonly selfCall: string | undefined;
}

/** What a genuine self-call header says; a forged or absent one says depth 0, no budget. */
export interface SelfCallMark {
  readonly depth: number;
  readonly budgetId: string | undefined;
}

/**
 * In-process self-clients: APINodeClient over the app's own fetch (no network, no HTTP round
 * trip), so each call goes through the same routes as any other, with its own auth check,
 * timing, metrics and query-log lines. The depth header carries a per-instance random token:
 * a client cannot forge it to nest deeper.
 */
export class SelfClients {
  private readonly token = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');

  constructor(private readonly fetch: (req: Request) => Promise<Response>) {}

  depth(header: string | undefined): number {
    return this.mark(header).depth;
  }

  mark(header: string | undefined): SelfCallMark {
    const [token, n, budgetId] = (header ?? '').split('.');
    return token === this.token && n ? { depth: Number(n) || 0, budgetId } : { depth: 0, budgetId: undefined };
  }

  /** The client's methods for one call: the credentials live in this closure, never in a cache. Each call counts against `budget`. */
  client(caller: CallerCredentials, budget?: RequestBudget): Record<string, Method> {
    const depth = this.depth(caller.selfCall) + 1;
    let n = 0;
    const headers = (): Record<string, string> => ({
      ...(caller.authorization ? { Authorization: caller.authorization } : {}),
      'X-Request-Id': `${caller.requestId}/${++n}`.slice(-128),
      [SELF_CALL_HEADER]: `${this.token}.${depth}${budget ? `.${budget.id}` : ''}`,
    });
    const methods: Record<string, Method> = {};
    for (const name of METHODS) {
      methods[name] = async (...args) => {
        if (depth > MAX_SELF_CALL_DEPTH) throw tooDeep();
        budget?.selfCall();
        // The client copies its options at construction: one per request, so each has its own request id.
        const c = new APINodeClient('http://self', caller.serviceId, { fetch: this.fetch, headers: headers() });
        return (c[name as keyof APINodeClient] as Method).apply(c, args);
      };
    }
    return methods;
  }
}
