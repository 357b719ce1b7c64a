import { describe, expect, it } from 'vitest';
import type { Mapping } from '@apinode/protocol';
import { ApiError } from '../../src/errors.js';
import { chooseGeneration, fnv1a32, pickBucket } from '../../src/services/dispatch.js';

const split: Mapping = { mode: 'SPLIT', entries: [{ generation: 'v1', proba: 0.7 }, { generation: 'v2', proba: 0.2 }, { generation: 'v3', proba: 0.1 }] };

/** mulberry32: a seeded PRNG so distribution tests are reproducible. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('FNV-1a 32', () => {
  it('matches the published test vectors', () => {
    // From the FNV reference test suite (Fowler/Noll/Vo).
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    // "é" is C3 A9 in UTF-8: two rounds of xor-multiply from the offset basis.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(h);
  });
});

describe('chooseGeneration', () => {
  it('honours a forced generation that is in the mapping', () => {
    expect(chooseGeneration(split, { forcedGeneration: 'v3' }, () => 0)).toBe('v3');
  });

  it('answers 404 for a forced generation outside the mapping', () => {
    const e = (() => {
      try {
        chooseGeneration(split, { forcedGeneration: 'v9' }, () => 0);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(404);
    expect((e as ApiError).errorType).toBe('GENERATION_NOT_FOUND');
  });

  it('lets forcedGeneration win over a dispatch key', () => {
    expect(chooseGeneration(split, { forcedGeneration: 'v2', dispatchKey: 'anything' }, () => 0)).toBe('v2');
  });

  it('sends a dispatch key to the bucket holding fnv1a32(key) / 2^32', () => {
    for (let i = 0; i < 500; i++) {
      const key = `customer-${i}`;
      const u = fnv1a32(key) / 2 ** 32;
      const expected = u < 0.7 ? 'v1' : u < 0.9 ? 'v2' : 'v3';
      expect(chooseGeneration(split, { dispatchKey: key }, () => 0.99)).toBe(expected);
    }
  });

  it('keeps a dispatch key on the same generation across calls', () => {
    const random = seeded(1);
    const first = chooseGeneration(split, { dispatchKey: 'user-42' }, random);
    for (let i = 0; i < 100; i++) expect(chooseGeneration(split, { dispatchKey: 'user-42' }, random)).toBe(first);
  });

  it('spreads distinct dispatch keys by the mapping probabilities', () => {
    const counts: Record<string, number> = { v1: 0, v2: 0, v3: 0 };
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[chooseGeneration(split, { dispatchKey: `k${i}` }, () => 0)]!++;
    expect(counts.v1! / n).toBeCloseTo(0.7, 1);
    expect(Math.abs(counts.v2! / n - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(counts.v3! / n - 0.1)).toBeLessThan(0.015);
  });

  it('splits random traffic by the mapping probabilities', () => {
    const random = seeded(7);
    const counts: Record<string, number> = { v1: 0, v2: 0, v3: 0 };
    const n = 50_000;
    for (let i = 0; i < n; i++) counts[chooseGeneration(split, null, random)]!++;
    expect(Math.abs(counts.v1! / n - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(counts.v2! / n - 0.2)).toBeLessThan(0.01);
    expect(Math.abs(counts.v3! / n - 0.1)).toBeLessThan(0.01);
  });

  it('always answers the single generation of a SINGLE_GENERATION mapping', () => {
    expect(chooseGeneration({ mode: 'SINGLE_GENERATION', generation: 'g' }, { dispatchKey: 'x' }, Math.random)).toBe('g');
  });
});

describe('pickBucket', () => {
  it('never picks a zero-probability entry, even at the bucket edge', () => {
    const entries = [{ generation: 'a', proba: 0.5 }, { generation: 'dead', proba: 0 }, { generation: 'b', proba: 0.5 }];
    expect(pickBucket(entries, 0.5)).toBe('b');
    expect(pickBucket(entries, 0.4999)).toBe('a');
  });

  it('gives the last live bucket what rounding leaves below 1', () => {
    expect(pickBucket([{ generation: 'a', proba: 0.3333333 }, { generation: 'b', proba: 0.6666666 }], 0.9999999)).toBe('b');
  });
});
