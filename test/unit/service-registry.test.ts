import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { ServiceRegistry } from '../../src/services/service-registry.js';
import { FlakyStore, json, tempStore } from '../support/stores.js';

const service = (enabled: boolean) => ({ serviceId: 's1', enabled, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } });

async function setup(requestBoundIo = false) {
  const { store: inner } = await tempStore();
  const store = new FlakyStore(inner);
  let now = 1_000_000;
  const registry = new ServiceRegistry(store, { ttlMs: 10_000, now: () => now, log: silentLogger, requestBoundIo });
  return { inner, store, registry, advance: (ms: number) => (now += ms) };
}

describe('ServiceRegistry', () => {
  it('reads service.json once per TTL', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json(service(true)));
    for (let i = 0; i < 5; i++) expect((await t.registry.get('s1'))?.enabled).toBe(true);
    expect(t.store.reads + t.store.conditionalReads).toBe(1);
  });

  it('revalidates with the ETag after the TTL and keeps the copy when unchanged', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json(service(true)));
    await t.registry.get('s1');
    t.advance(10_001);
    expect((await t.registry.get('s1'))?.enabled).toBe(true);
    expect(t.store.reads).toBe(1);
    expect(t.store.conditionalReads).toBe(1);
  });

  it('sees a change once the TTL has passed, not before', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json(service(true)));
    await t.registry.get('s1');
    await new Promise((r) => setTimeout(r, 5)); // a new mtime for the local store's etag
    await t.inner.put('services/s1/service.json', json(service(false)));
    t.advance(5_000);
    expect((await t.registry.get('s1'))?.enabled).toBe(true);
    t.advance(5_001);
    expect((await t.registry.get('s1'))?.enabled).toBe(false);
  });

  it('keeps serving the last good copy while the store is down (stale-if-error)', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json(service(true)));
    await t.registry.get('s1');
    t.store.down = true;
    t.advance(60_000);
    expect((await t.registry.get('s1'))?.enabled).toBe(true);
  });

  it('fails with 503 when the store is down and nothing is cached', async () => {
    const t = await setup();
    t.store.down = true;
    await expect(t.registry.get('s1')).rejects.toMatchObject({ status: 503, errorType: 'STORE_UNAVAILABLE' });
  });

  it('caches an unknown service as absent for a TTL', async () => {
    const t = await setup();
    expect(await t.registry.get('nope')).toBeNull();
    expect(await t.registry.get('nope')).toBeNull();
    expect(t.store.reads).toBe(1);
  });

  it('shares one read between concurrent requests', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json(service(true)));
    await Promise.all(Array.from({ length: 20 }, () => t.registry.get('s1')));
    expect(t.store.reads).toBe(1);
  });

  it('requestBoundIo (Workers): no caller waits for a read another started; the copy being revalidated serves meanwhile', async () => {
    const t = await setup(true);
    await t.inner.put('services/s1/service.json', json(service(true)));
    // Cold: nothing cached, so each concurrent caller reads for itself.
    const cold = await Promise.all(Array.from({ length: 3 }, () => t.registry.get('s1')));
    expect(cold.map((c) => c?.enabled)).toEqual([true, true, true]);
    expect(t.store.reads).toBe(3);
    await new Promise((r) => setTimeout(r, 5)); // a new mtime for the local store's etag
    await t.inner.put('services/s1/service.json', json(service(false)));
    t.advance(10_001);
    // The first caller revalidates (and sees the change); the others, meanwhile, get the cached copy at once.
    const revalidating = t.registry.get('s1');
    const others = await Promise.all(Array.from({ length: 3 }, () => t.registry.get('s1')));
    expect(others.map((c) => c?.enabled)).toEqual([true, true, true]);
    expect((await revalidating)?.enabled).toBe(false);
    expect(t.store.conditionalReads).toBe(1);
    expect((await t.registry.get('s1'))?.enabled).toBe(false);
    // A read in flight for longer than the TTL (its request gone) no longer holds the others back: they read again.
    t.advance(10_001);
    void t.registry.get('s1');
    t.advance(10_001);
    await t.registry.get('s1');
    expect(t.store.conditionalReads).toBe(3);
  });

  it('rejects an invalid service.json with a clear 503, not a crash', async () => {
    const t = await setup();
    await t.inner.put('services/s1/service.json', json({ serviceId: 's1', mapping: { entries: [{ generation: 'a', proba: 0.5 }] } }));
    await expect(t.registry.get('s1')).rejects.toMatchObject({ status: 503, errorType: 'SERVICE_CONFIG_INVALID' });
  });
});
