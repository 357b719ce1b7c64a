import { batchingQueryLog, PermanentFailure, type Batch, type BatchOptions } from './query-log-batch.js';
import type { QueryLogSink } from './query-log.js';

export interface HttpSinkOptions extends Omit<BatchOptions, 'sink'> {
  /** The collector: each batch is POSTed there as NDJSON. */
  readonly url: string;
  /** Sent as `Authorization: Bearer <secret>`. @default - no Authorization header */
  readonly secret?: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/**
 * The http sink: each batch is one POST of NDJSON (application/x-ndjson) to the collector.
 * 2xx is delivered; 408, 429 and 5xx (and no answer) are retried with exponential backoff and
 * jitter; any other answer (a wrong secret, a refused body, a redirect: the secret is never sent
 * on) drops the batch at once, counted. At least once: a collector that stores a batch and then
 * fails gets it again.
 */
export function httpQueryLog(options: HttpSinkOptions): QueryLogSink {
  const post = options.fetch ?? ((input, init) => fetch(input, init));
  const headers: Record<string, string> = { 'Content-Type': 'application/x-ndjson' };
  if (options.secret) headers.Authorization = `Bearer ${options.secret}`;
  return batchingQueryLog({ ...options, sink: 'http' }, async (batch: Batch) => {
    let body = '';
    for (const item of batch.items) body += item.json + '\n';
    const res = await post(options.url, { method: 'POST', headers, body, redirect: 'manual' });
    // The answer's body is not read, but must be released (Workers and undici hold the connection).
    await res.body?.cancel().catch(() => undefined);
    if (res.ok) return;
    const message = `the collector answered HTTP ${res.status}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(message);
    throw new PermanentFailure(message);
  });
}
