import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import type { ZodType } from 'zod';
import { DSS_API_VERSION, DSS_VERSION } from '@apinode/protocol';
import { ApiError, describe, formatIssues } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { AppEnv } from './env.js';

/**
 * Request id, start time, and the DSS version headers on every answer (errors included).
 * Headers are set before the handler runs: touching c.res.headers afterwards turns Node's
 * lightweight response into a full Response object and halves throughput.
 */
export const commonHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.set('startedAt', performance.now());
  const requestId = c.req.header('x-request-id')?.slice(0, 128) || crypto.randomUUID();
  c.set('requestId', requestId);
  c.header('DSS-API-Version', DSS_API_VERSION);
  c.header('DSS-Version', DSS_VERSION);
  c.header('X-Request-Id', requestId);
  await next();
};

export function errorHandler(log: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof ApiError) {
      c.set('errorType', err.errorType);
      if (err.status === 401) c.header('WWW-Authenticate', 'Basic realm="apinode", charset="UTF-8"');
      // The unread rest of an oversized body would poison a kept-alive connection.
      if (err.status === 413) c.header('Connection', 'close');
      // A fault: the log gets what the answer must not show (a third-party message, in cause).
      if (err.status >= 500) log.warn(err.message, { requestId: c.get('requestId'), errorType: err.errorType, detail: err.detailedMessage, ...(err.cause !== undefined ? { cause: describe(err.cause).slice(0, 2000) } : {}) });
      return c.json(err.toBody(), err.status);
    }
    // A bug: log everything, tell the client nothing but the request id to quote.
    const requestId = c.get('requestId');
    c.set('errorType', 'INTERNAL_ERROR');
    log.error('unhandled error', { requestId, path: c.req.path, error: describe(err), stack: (err as Error).stack });
    const body = new ApiError(500, 'INTERNAL_ERROR', 'Internal error', `request id ${requestId}`).toBody();
    return c.json(body, 500);
  };
}

export const notFound: NotFoundHandler<AppEnv> = (c) => {
  c.set('errorType', 'NOT_FOUND');
  return c.json(new ApiError(404, 'NOT_FOUND', `No route for ${c.req.method} ${c.req.path}`).toBody(), 404);
};

/** Counts every user-API request under its service, endpoint and generation. */
export function recordMetrics(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    // /public/api/v1/{service}/{endpoint}/{action}
    const [, , , , serviceId = '-', endpointId = '-'] = c.req.path.split('/');
    const ms = performance.now() - c.get('startedAt');
    metrics.record(serviceId, endpointId, c.get('generation') ?? '-', ms, c.get('records') ?? 0, c.get('errorType'));
  };
}

/**
 * Deepest nesting of arrays and objects a body (or a JSON query value) may have. DSS bodies
 * nest 3 or 4 levels; a much deeper value parses, but overflows the stack of whatever walks it
 * recursively next (the query log's JSON.stringify, the arguments handed to code).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The request body as JSON, whatever the Content-Type (the official DSS Python client sends
 * none), checked against a schema. Size is capped before parsing by the body-limit middleware,
 * depth before parsing too.
 */
export async function readJson<T>(c: Context, schema: ZodType<T>, maxBytes: number): Promise<T> {
  const text = await readText(c, maxBytes);
  if (text.trim() === '') throw ApiError.badRequest('INVALID_JSON', 'The request body is empty; send a JSON object');
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw ApiError.badRequest('INVALID_JSON', `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`, `flatten the body: at most ${MAX_JSON_DEPTH} levels of arrays and objects`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw ApiError.badRequest('INVALID_JSON', 'The request body is not valid JSON', describe(e).replace(/^SyntaxError: /, ''));
  }
  return validate(schema, json);
}

// Character codes of " \ [ ] { }
const [QUOTE, BACKSLASH, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d] as const;

/**
 * Whether JSON text nests arrays and objects deeper than `max`: one pass over the text, no
 * recursion (so it cannot overflow itself), brackets inside strings skipped. Malformed text is
 * left to JSON.parse.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      // To the closing quote: the next one not escaped by an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return false;
        let slashes = 0;
        while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
      }
    } else if (ch === OPEN_ARRAY || ch === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (ch === CLOSE_ARRAY || ch === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

export function validate<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const detail = formatIssues(parsed.error.issues);
  throw ApiError.badRequest('INVALID_REQUEST', `The request does not match the API: ${detail.split('; ')[0]}`, detail);
}

const tooLarge = (max: number) =>
  new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${max} bytes`, 'split the batch or raise APINODE_MAX_BODY_BYTES');

/**
 * The body as text, at most maxBytes. With a Content-Length (every DSS client sends one) the
 * size is checked before reading and the runtime's fast path reads it; a chunked body is
 * streamed and cut off at the limit. (Hono's bodyLimit always builds the stream, which on
 * Node costs more than the whole prediction.)
 */
async function readText(c: Context, maxBytes: number): Promise<string> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && !c.req.header('transfer-encoding')) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
    return c.req.text();
  }
  return new TextDecoder().decode(await readStream(c, maxBytes));
}

/** The raw body (archives), at most maxBytes. */
export async function readBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && !c.req.header('transfer-encoding')) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
    return new Uint8Array(await c.req.arrayBuffer());
  }
  return readStream(c, maxBytes);
}

/**
 * The raw body as a stream, for a reader that counts what it reads and stops at its own limits
 * (archives: services/archive.ts), so a large body is never held whole. A Content-Length above
 * maxBytes is refused before anything is read, with `tooLargeError` naming the setting to raise.
 */
export function readBodyStream(c: Context, maxBytes: number, tooLargeError: (max: number) => ApiError = tooLarge): ReadableStream<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLargeError(maxBytes);
  return c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
}

async function readStream(c: Context, maxBytes: number): Promise<Uint8Array> {
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      void reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) all.set(ch, (at += ch.byteLength) - ch.byteLength);
  return all;
}

/** Microseconds since t (a performance.now() reading). */
export const since = (t: number): number => Math.round((performance.now() - t) * 1000);
