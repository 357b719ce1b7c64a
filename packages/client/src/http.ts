import { ErrorBody } from '@apinode/protocol';
import { ApiNodeError } from './errors.js';

export type Fetch = (input: Request) => Promise<Response>;

export interface HttpOptions {
  /** @default globalThis.fetch; pass app.fetch to call an in-process app */
  fetch?: Fetch;
  /** Extra headers on every call. */
  headers?: Record<string, string>;
}

/** One JSON call: throws ApiNodeError carrying the node's errorType and status on failure. */
export async function call<T>(base: string, method: string, path: string, auth: string | undefined, body: unknown, opts: HttpOptions): Promise<T> {
  const headers: Record<string, string> = { ...opts.headers };
  if (auth) headers.Authorization = auth;
  let payload: BodyInit | undefined;
  if (body instanceof Uint8Array || body instanceof ReadableStream) {
    payload = body as BodyInit;
    headers['Content-Type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers, ...(payload !== undefined ? { body: payload } : {}) };
  if (body instanceof ReadableStream) init.duplex = 'half';
  const f = opts.fetch ?? ((r: Request) => fetch(r));
  let res: Response;
  try {
    res = await f(new Request(base.replace(/\/$/, '') + path, init));
  } catch (e) {
    throw new ApiNodeError(0, 'UNREACHABLE', `Cannot reach ${base}: ${(e as Error).message}`, String((e as Error).cause ?? ''));
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = ErrorBody.safeParse(json);
    if (err.success) throw new ApiNodeError(res.status, err.data.errorType, err.data.message, err.data.detailedMessage);
    throw new ApiNodeError(res.status, `HTTP_${res.status}`, `${method} ${path} answered ${res.status}`, text.slice(0, 500));
  }
  return (json ?? text) as T;
}

export const basic = (key: string) => `Basic ${btoa(`${key}:`)}`;
