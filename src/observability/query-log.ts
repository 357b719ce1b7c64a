/** One scored record, as written to the query log. Never holds a key, only its label. */
export interface QueryLogEntry {
  time: string;
  requestId: string;
  serviceId: string;
  endpointId: string;
  generation: string;
  caller: string | null;
  features: unknown;
  context: unknown;
  result: unknown;
  /** Microseconds, for the whole request the record was part of. */
  timing: unknown;
}

/** Where query log lines go: stdout on Node, batched sinks on Workers and Lambda. */
export interface QueryLogSink {
  write(entries: readonly QueryLogEntry[]): void;
  /** Resolves when buffered entries are delivered; runtimes call it in waitUntil or before returning. */
  flush(): Promise<void>;
}

export const discardQueryLog: QueryLogSink = { write: () => undefined, flush: async () => undefined };

/** JSON lines through a writer (stdout on Node): one write per request, not per record. */
export function lineQueryLog(write: (chunk: string) => void): QueryLogSink {
  return {
    write(entries) {
      if (entries.length === 0) return;
      let chunk = '';
      for (const e of entries) chunk += JSON.stringify(e) + '\n';
      write(chunk);
    },
    flush: async () => undefined,
  };
}
