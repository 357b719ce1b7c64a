import type { Config } from '../config.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { Logger } from './logger.js';
import { httpQueryLog } from './query-log-http.js';
import { storeQueryLog } from './query-log-store.js';
import { discardQueryLog, teeQueryLog, type QueryLogSink } from './query-log.js';

/** What a runtime entry gives to build the sinks APINODE_QUERY_LOG names. */
export interface SinkPorts {
  /** The stdout sink as the platform writes it (immediate on Node, batched per invocation or request elsewhere). */
  readonly stdout: () => QueryLogSink;
  /** Where the store sink writes (APINODE_QUERY_LOG_DIR, _BUCKET, the QUERY_LOG binding, or the node's store). */
  readonly store: () => ObjectStore;
  /** Whether batches are sealed by timers: false on Lambda, frozen between invocations. */
  readonly timers: boolean;
  /** The longest a batch may wait, whatever APINODE_QUERY_LOG_FLUSH_S says (Workers: waitUntil ends 30 s after the answer). @default - no limit */
  readonly maxFlushS?: number;
  readonly log: Logger;
  /** For the http sink. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** The query log APINODE_QUERY_LOG asks for: one sink, several as one, or none. */
export function queryLogSinks(config: Config, ports: SinkPorts): QueryLogSink {
  const batching = {
    flushBytes: config.queryLogFlushBytes,
    flushMs: Math.min(config.queryLogFlushS, ports.maxFlushS ?? Infinity) * 1000,
    bufferBytes: config.queryLogBufferBytes,
    timers: ports.timers,
    // Without timers (Lambda) a delivery delays the answer: one retry, and no attempt past 5 s.
    ...(ports.timers ? {} : { attempts: 2, attemptTimeoutMs: 5000 }),
    log: ports.log,
  };
  const sinks = config.queryLog.map((name): QueryLogSink => {
    switch (name) {
      case 'stdout':
        return ports.stdout();
      case 'store':
        return storeQueryLog(ports.store(), { ...batching, prefix: config.queryLogPrefix });
      case 'http':
        return httpQueryLog({ ...batching, url: config.queryLogUrl!, secret: config.queryLogSecret, fetch: ports.fetch });
    }
  });
  return sinks.length === 0 ? discardQueryLog : teeQueryLog(sinks);
}
