import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RolloutState, ServiceConfig } from '@apinode/protocol';
import { silentLogger } from '../../src/observability/logger.js';
import { createRollouts } from '../../src/rollout/rollouts.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { seedShop } from '../support/rollout-lab.js';
import { buildWorker, startWorkerd, type Workerd } from './workerd.js';

const read = async <T>(store: ObjectStore, key: string, schema: { parse(v: unknown): T }) => schema.parse(JSON.parse(new TextDecoder().decode((await store.get(key))!.body)));

/**
 * The built Worker in workerd: its requests write metric windows to R2 (in waitUntil, when due),
 * and its `scheduled` handler (the Cron Trigger) advances the rollout from them.
 */
describe('guarded rollouts on Workers', () => {
  let w: Workerd;
  beforeAll(async () => {
    w = await startWorkerd(await buildWorker(), { vars: { APINODE_CONFIG_TTL_S: '0', APINODE_QUERY_LOG: 'off', APINODE_METRIC_WINDOWS_EVERY_S: '1' } });
    await seedShop(w.store);
  }, 180_000);
  afterAll(() => w?.close());

  it('rolls a failing generation back on a Cron Trigger, from the windows the Worker wrote to R2', async () => {
    const { controller } = createRollouts({ store: w.store, now: Date.now, log: silentLogger, invalidate: () => undefined, windows: false });
    await controller.start('shop', { generation: 'g2', steps: [50, 100], everyS: 600, maxErrorRate: 0.01, minRequests: 5 }, 'test');
    const call = async () => {
      const res = await w.fetch('/public/api/v1/shop/double/run', { method: 'POST', body: '{"x": 13}' });
      await res.arrayBuffer();
      return res.headers.get('X-Apinode-Generation');
    };
    let g2 = 0;
    for (let i = 0; i < 40; i++) if ((await call()) === 'g2') g2++;
    // A call a second later carries the write of the windows (waitUntil, when due).
    await new Promise((r) => setTimeout(r, 1100));
    if ((await call()) === 'g2') g2++;
    await new Promise((r) => setTimeout(r, 500));
    expect(g2).toBeGreaterThan(5);
    expect((await w.store.list('metrics/service=shop/generation=g2/')).length).toBeGreaterThan(0);

    const worker = await w.mf.getWorker();
    await worker.scheduled({ cron: '* * * * *', scheduledTime: new Date() });
    const s = await read(w.store, layout.rollout('shop'), RolloutState);
    expect(s).toMatchObject({ phase: 'rolled-back', mappingApplied: true });
    expect(s.history.at(-1)).toMatchObject({ action: 'rollback', by: 'scheduler', figures: { requests: g2, serverErrors: g2 } });
    expect((await read(w.store, layout.service('shop'), ServiceConfig)).mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g1' });
  });
});
