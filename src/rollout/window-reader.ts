import { MetricWindow, type RolloutFigures } from '@apinode/protocol';
import type { ObjectStore } from '../storage/object-store.js';
import { minuteOf } from './metric-windows.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * What a generation did from `fromMs` to `toMs`, summed over every instance's metric windows
 * (metric-windows.ts), minute by minute: the minute `fromMs` falls in counts whole. Listed one
 * hour prefix at a time (minute=YYYY-MM-DDTHH), so a long step costs a LIST per hour, not per
 * minute. A window that is not valid (a foreign or torn object) is skipped, not trusted.
 */
export async function readFigures(store: ObjectStore, serviceId: string, generation: string, fromMs: number, toMs: number): Promise<RolloutFigures> {
  const firstMinute = minuteOf(fromMs);
  const lastMinute = minuteOf(toMs);
  const base = `metrics/service=${serviceId}/generation=${generation}/minute=`;
  const hours: string[] = [];
  for (let h = Math.floor(fromMs / HOUR_MS) * HOUR_MS; h <= toMs; h += HOUR_MS) hours.push(`${base}${new Date(h).toISOString().slice(0, 13)}`);
  const keys = (await Promise.all(hours.map((p) => store.list(p)))).flat().filter((k) => {
    const minute = k.slice(base.length, base.length + 16);
    return minute >= firstMinute && minute <= lastMinute;
  });

  const sum = { requests: 0, serverErrors: 0, clientErrors: 0, counts: [] as number[], boundsMs: [] as number[], windows: 0 };
  for (let i = 0; i < keys.length; i += 16) {
    const got = await Promise.all(keys.slice(i, i + 16).map((k) => store.get(k)));
    for (const obj of got) {
      const w = obj && parseWindow(obj.body);
      if (!w) continue;
      if (!sum.boundsMs.length) sum.boundsMs = w.boundsMs;
      // Windows written with other bounds cannot be summed bucket by bucket: counted, not placed.
      const same = w.boundsMs.length === sum.boundsMs.length && w.boundsMs.every((b, j) => b === sum.boundsMs[j]);
      sum.requests += w.requests;
      sum.serverErrors += w.serverErrors;
      sum.clientErrors += w.clientErrors;
      if (same) w.counts.forEach((n, j) => (sum.counts[j] = (sum.counts[j] ?? 0) + n));
      sum.windows++;
    }
  }
  return {
    from: new Date(Math.floor(fromMs / MINUTE_MS) * MINUTE_MS).toISOString(),
    to: new Date(toMs).toISOString(),
    requests: sum.requests,
    serverErrors: sum.serverErrors,
    clientErrors: sum.clientErrors,
    errorRate: sum.requests ? sum.serverErrors / sum.requests : null,
    p99Ms: quantile(0.99, sum.boundsMs, sum.counts),
    windows: sum.windows,
  };
}

function parseWindow(body: Uint8Array): MetricWindow | null {
  try {
    const parsed = MetricWindow.safeParse(JSON.parse(new TextDecoder().decode(body)));
    return parsed.success && parsed.data.counts.length === parsed.data.boundsMs.length + 1 ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The q-quantile of a histogram (counts per bucket, the last one above the largest bound), as
 * Prometheus's histogram_quantile estimates it: linear within the bucket it falls in. Null with
 * no observations, or when it falls above the largest bound (there is no upper edge to place it).
 */
export function quantile(q: number, boundsMs: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (below + n >= rank && n > 0) {
      if (i >= boundsMs.length) return null;
      const lower = i === 0 ? 0 : boundsMs[i - 1]!;
      return lower + (boundsMs[i]! - lower) * ((rank - below) / n);
    }
    below += n;
  }
  return null;
}
