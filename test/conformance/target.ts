/** What every runtime's conformance target is: a fetch to its built output, and how to stop it. */
export interface Target {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const DEMO_KEY = 'conformance-demo-key';
export const CONFORMANCE_ENV = { APINODE_DEMO_KEY: DEMO_KEY, APINODE_MAX_BODY_BYTES: '1048576', APINODE_QUERY_LOG: 'off' };

export const auth = { Authorization: `Basic ${btoa(`${DEMO_KEY}:`)}` };
