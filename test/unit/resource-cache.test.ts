import { describe, expect, it } from 'vitest';
import { ResourceCache } from '../../src/inference/resource-cache.js';

function tracked(maxBytes: number) {
  const disposed: string[] = [];
  const cache = new ResourceCache<string>(maxBytes, (v) => disposed.push(v));
  let loads = 0;
  const load = (value: string, bytes: number) => async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 5));
    return { value, bytes };
  };
  return { cache, disposed, load, loads: () => loads };
}

describe('ResourceCache', () => {
  it('shares one load between concurrent first requests', async () => {
    const t = tracked(100);
    const leases = await Promise.all(Array.from({ length: 10 }, () => t.cache.acquire('m', t.load('m', 10))));
    expect(t.loads()).toBe(1);
    expect(new Set(leases.map((l) => l.value))).toEqual(new Set(['m']));
    leases.forEach((l) => l.release());
  });

  it('evicts the least recently used entries past the byte budget and disposes them', async () => {
    const t = tracked(25);
    for (const k of ['a', 'b']) (await t.cache.acquire(k, t.load(k, 10))).release();
    (await t.cache.acquire('a', t.load('a', 10))).release(); // a is now more recent than b
    (await t.cache.acquire('c', t.load('c', 10))).release();
    expect(t.disposed).toEqual(['b']);
    expect(t.cache.has('a') && t.cache.has('c')).toBe(true);
    expect(t.cache.bytes).toBe(20);
  });

  it('disposes an evicted value only when its last lease is released', async () => {
    const t = tracked(10);
    const held = await t.cache.acquire('a', t.load('a', 10));
    (await t.cache.acquire('b', t.load('b', 10))).release();
    expect(t.cache.has('a')).toBe(false);
    expect(t.disposed).toEqual([]);
    held.release();
    held.release(); // double release is harmless
    expect(t.disposed).toEqual(['a']);
  });

  it('keeps an entry larger than the whole budget until the next one arrives', async () => {
    const t = tracked(10);
    (await t.cache.acquire('big', t.load('big', 50))).release();
    expect(t.cache.has('big')).toBe(true);
    (await t.cache.acquire('small', t.load('small', 5))).release();
    expect(t.disposed).toEqual(['big']);
  });

  it('does not cache a failed load: the next request tries again', async () => {
    const t = tracked(100);
    let attempts = 0;
    const flaky = async () => {
      attempts++;
      if (attempts === 1) throw new Error('boom');
      return { value: 'ok', bytes: 1 };
    };
    await expect(t.cache.acquire('x', flaky)).rejects.toThrow('boom');
    const lease = await t.cache.acquire('x', flaky);
    expect(lease.value).toBe('ok');
    expect(attempts).toBe(2);
  });
});
