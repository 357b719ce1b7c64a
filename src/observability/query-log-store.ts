import { queryLogHourPrefix, queryLogKey } from '@apinode/protocol';
import type { ObjectStore } from '../storage/object-store.js';
import { batchingQueryLog, type Batch, type BatchItem, type BatchOptions } from './query-log-batch.js';
import type { QueryLogSink } from './query-log.js';

export interface StoreSinkOptions extends Omit<BatchOptions, 'sink'> {
  /** @default 'querylog/' */
  readonly prefix?: string;
  /** Names this process's (isolate's) objects. @default - 16 random hex digits */
  readonly instance?: string;
}

/** A random id for this process or isolate: two instances never write the same key. */
export function instanceId(): string {
  return [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Gzip through CompressionStream: native on Node, workerd and Lambda, so compressing a batch
 * neither blocks the event loop nor spends a Worker's CPU budget in JavaScript (fflate would).
 */
export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The store sink: each batch becomes one gzip NDJSON object per (service, endpoint, UTC hour)
 * partition, at queryLogKey(...), written with ObjectStore.put. Readers (Athena, DuckDB,
 * readQueryLog) list the hour partitions. Delivery is at least once: a put that times out but
 * lands is written again under the next sequence number.
 */
export function storeQueryLog(store: ObjectStore, options: StoreSinkOptions): QueryLogSink {
  const instance = options.instance ?? instanceId();
  let seq = 0;
  return batchingQueryLog({ ...options, sink: 'store' }, async (batch: Batch) => {
    const groups = new Map<string, BatchItem[]>();
    for (const item of batch.items) {
      const key = queryLogHourPrefix({ prefix: options.prefix, serviceId: item.serviceId, endpointId: item.endpointId, time: new Date(item.time) });
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(item);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      const key = queryLogKey({ prefix: options.prefix, serviceId: first.serviceId, endpointId: first.endpointId, time: new Date(first.time), instance, seq: seq++ });
      let text = '';
      for (const item of group) text += item.json + '\n';
      await store.put(key, await gzip(text));
      // Stored: a retry of the rest must not write these again.
      const stored = new Set(group);
      batch.items = batch.items.filter((i) => !stored.has(i));
    }
  });
}
