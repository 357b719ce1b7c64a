/** What every runtime's conformance target is: a fetch to its built output, and how to stop it. */
export interface Target {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const DEMO_KEY = 'conformance-demo-key';
export const CONFORMANCE_ENV = { APINODE_DEMO_KEY: DEMO_KEY, APINODE_MAX_BODY_BYTES: '1048576', APINODE_QUERY_LOG: 'off' };

export const auth = { Authorization: `Basic ${btoa(`${DEMO_KEY}:`)}` };

/**
 * Sends a body the target must refuse as too large. The node answers 413 before it has read the
 * whole body (by design: it does not buffer what it refuses), and workerd then closes the
 * connection while the client is still writing: undici may see that reset (ECONNRESET, "fetch
 * failed") instead of the answer. Such a network failure is retried, a few times; any answer,
 * whatever its status, is returned as is.
 */
export async function sendRefused(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      const reset = /ECONNRESET|EPIPE|other side closed|fetch failed/.test(`${String(e)} ${String((e as { cause?: unknown }).cause)}`);
      if (!reset || attempt >= 5) throw e;
    }
  }
}
