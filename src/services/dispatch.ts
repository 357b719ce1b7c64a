import type { Mapping } from '@apinode/protocol';
import { ApiError } from '../errors.js';

/** 32-bit FNV-1a over the UTF-8 bytes of s. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
const utf8 = new TextEncoder();

export interface DispatchRequest {
  forcedGeneration?: string | null | undefined;
  dispatchKey?: string | null | undefined;
}

/** The generations a mapping can send traffic to, in mapping order. */
export function mappedGenerations(mapping: Mapping): string[] {
  return mapping.mode === 'SINGLE_GENERATION' ? [mapping.generation] : mapping.entries.map((e) => e.generation);
}

/**
 * DESIGN 4: forcedGeneration wins (404 unless mapped); else a dispatch key picks
 * deterministically (FNV-1a / 2^32 into the cumulative buckets); else a random draw.
 */
export function chooseGeneration(mapping: Mapping, req: DispatchRequest | null | undefined, random: () => number): string {
  if (req?.forcedGeneration != null) {
    const forced = req.forcedGeneration;
    if (!mappedGenerations(mapping).includes(forced)) {
      throw ApiError.notFound('GENERATION_NOT_FOUND', `Generation "${forced}" is not in this service's mapping`);
    }
    return forced;
  }
  if (mapping.mode === 'SINGLE_GENERATION') return mapping.generation;
  const u = req?.dispatchKey != null ? fnv1a32(req.dispatchKey) / 2 ** 32 : random();
  return pickBucket(mapping.entries, u);
}

/** The entry whose cumulative proba bucket holds u in [0, 1). Zero-proba entries never win. */
export function pickBucket(entries: readonly { generation: string; proba: number }[], u: number): string {
  let cumulative = 0;
  let last: string | undefined;
  for (const e of entries) {
    if (e.proba <= 0) continue;
    cumulative += e.proba;
    last = e.generation;
    if (u < cumulative) return e.generation;
  }
  // Rounding can leave sum(proba) a hair under 1: the last live bucket takes the rest.
  if (last === undefined) throw new ApiError(503, 'NO_GENERATION', 'The service mapping sends traffic to no generation');
  return last;
}
