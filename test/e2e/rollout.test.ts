import { describe, expect, it } from 'vitest';
import { RolloutState, ServiceConfig } from '@apinode/protocol';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { testApp } from '../support/node-app.js';
import { fakeClock, shopNode, shopStore, tally, T0 } from '../support/rollout-lab.js';

const MIN = 60_000;
const read = async <T>(store: ObjectStore, key: string, schema: { parse(v: unknown): T }) => schema.parse(JSON.parse(new TextDecoder().decode((await store.get(key))!.body)));
const mappingOf = async (store: ObjectStore) => (await read(store, layout.service('shop'), ServiceConfig)).mapping;
const stateOf = (store: ObjectStore) => read(store, layout.rollout('shop'), RolloutState);

/** n calls of double(x): every tenth (i % 10 === 3) sends x = 13, which g2 fails on. */
async function traffic(node: ReturnType<typeof shopNode>, n: number) {
  const seen = [];
  for (let i = 0; i < n; i++) seen.push(await node.call(i % 10 === 3 ? 13 : i));
  return seen;
}

const start = (generation: string, extra: Record<string, unknown> = {}) => ({ generation, steps: [10, 50, 100], everyS: 600, maxErrorRate: 0.01, minRequests: 20, ...extra });

describe('guarded rollouts against a real node (fake clock, folder store)', () => {
  it('rolls a generation that fails back within its first step, by its own figures summed over two instances', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const [a, b] = [shopNode(store, clock), shopNode(store, clock)];
    const started = await a.admin('POST', '/services/shop/rollout', start('g2'));
    expect(started.status).toBe(201);
    expect(await mappingOf(store)).toEqual({ mode: 'SPLIT', entries: [{ generation: 'g1', proba: 0.9 }, { generation: 'g2', proba: 0.1 }] });

    clock.advance(20_000);
    const seen = [...(await traffic(a, 300)), ...(await traffic(b, 300))];
    const g2 = tally(seen, 'g2');
    // Independent of the node's figures: what the callers saw. g1 never fails; g2 fails on x = 13.
    expect(tally(seen, 'g1').serverErrors).toBe(0);
    expect(g2.requests).toBeGreaterThan(20);
    expect(g2.serverErrors).toBeGreaterThan(0);
    await Promise.all([a.deps.rollouts.windows!.flush(), b.deps.rollouts.windows!.flush()]);

    // One minute into a ten-minute step: enough requests to judge, and judged at once.
    clock.advance(MIN);
    const s = await a.deps.rollouts.controller.advance('shop');
    expect(s).toMatchObject({ phase: 'rolled-back', mappingApplied: true });
    const event = s!.history.at(-1)!;
    expect(event).toMatchObject({ action: 'rollback', percent: 0, by: 'scheduler' });
    expect(event.figures).toMatchObject({ requests: g2.requests, serverErrors: g2.serverErrors, windows: 2 });
    expect(event.figures!.errorRate).toBeCloseTo(g2.serverErrors / g2.requests, 12);
    expect(s!.reason).toMatch(/^error rate .* above the maximum 1%$/);
    expect(await mappingOf(store)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g1' });
    // Both instances serve the previous mapping at once (config TTL 0 here).
    expect((await traffic(b, 20)).every((r) => r.generation === 'g1' && r.status === 200)).toBe(true);
    // A later pass changes nothing.
    clock.advance(10 * MIN);
    expect((await a.deps.rollouts.controller.advance('shop'))!.revision).toBe(s!.revision);
  });

  it('takes a healthy generation through every step to 100%, one step per "every", then completes', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    const ctl = node.deps.rollouts.controller;
    expect((await node.admin('POST', '/services/shop/rollout', start('g3', { minRequests: 5 }))).status).toBe(201);
    const percents: number[] = [];
    for (let i = 0; i < 8; i++) {
      clock.advance(2 * MIN);
      await traffic(node, 100);
      await node.deps.rollouts.windows!.flush();
      clock.advance(3 * MIN);
      const s = (await ctl.advance('shop'))!;
      const g3 = (await mappingOf(store))!;
      percents.push(g3.mode === 'SINGLE_GENERATION' ? 100 : Math.round(g3.entries.find((e) => e.generation === 'g3')!.proba * 100));
      if (s.phase === 'completed') break;
    }
    // Each step is held for 10 minutes (two checks, 5 minutes apart), then completes after the 100% step's 10 minutes.
    expect(percents).toEqual([10, 50, 50, 100, 100, 100]);
    const s = await stateOf(store);
    expect(s.phase).toBe('completed');
    expect(s.history.map((e) => [e.action, e.percent])).toEqual([['start', 10], ['advance', 50], ['advance', 100], ['complete', 100]]);
    expect(s.history.slice(1).every((e) => e.figures!.serverErrors === 0 && e.figures!.requests >= 5)).toBe(true);
    const status = await node.admin('GET', '/services/shop/rollout');
    expect(status.body).toMatchObject({ percent: 100, current: null, nextStepAt: null, mapping: { mode: 'SINGLE_GENERATION', generation: 'g3' } });
  });

  it('waits, without judging, while a step has fewer requests than minRequests', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    await node.admin('POST', '/services/shop/rollout', start('g2', { minRequests: 1000 }));
    const seen = await traffic(node, 200);
    await node.deps.rollouts.windows!.flush();
    clock.advance(20 * MIN);
    const s = (await node.deps.rollouts.controller.advance('shop'))!;
    expect(s).toMatchObject({ phase: 'running', step: 0, revision: 1, history: [expect.objectContaining({ action: 'start' })] });
    const status = (await node.admin('GET', '/services/shop/rollout')).body;
    expect(status.current).toMatchObject(tally(seen, 'g2'));
    expect(status.nextStepAt).toBe(new Date(T0 + 10 * MIN).toISOString());
  });

  it('rolls back on p99 latency: a generation ~30 ms a call against a 10 ms maximum', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    await node.admin('POST', '/services/shop/rollout', start('g4', { steps: [100], maxP99Ms: 10, maxErrorRate: 1 }));
    for (let i = 0; i < 20; i++) expect((await node.call(i)).generation).toBe('g4');
    await node.deps.rollouts.windows!.flush();
    clock.advance(MIN);
    const s = (await node.deps.rollouts.controller.advance('shop'))!;
    expect(s.phase).toBe('rolled-back');
    expect(s.history.at(-1)!.figures!.p99Ms).toBeGreaterThan(25);
    expect(s.reason).toMatch(/^p99 latency .* ms \(over 20 requests\) is above the maximum 10 ms$/);
    expect(await mappingOf(store)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g1' });
  });

  it('never takes a step twice nor skips one when twenty controllers on four instances check at once', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const nodes = [0, 1, 2, 3].map(() => shopNode(store, clock));
    await nodes[0]!.admin('POST', '/services/shop/rollout', start('g3', { steps: [10, 20, 30, 50, 100], minRequests: 1 }));
    for (let step = 1; step <= 5; step++) {
      await traffic(nodes[step % 4]!, 100);
      await nodes[step % 4]!.deps.rollouts.windows!.flush();
      clock.advance(10 * MIN);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => nodes[i % 4]!.deps.rollouts.controller.advance('shop')));
      const s = await stateOf(store);
      expect(results.every((r) => r !== null)).toBe(true);
      expect(s.history.map((e) => e.action)).toEqual(['start', ...Array(Math.min(step, 4)).fill('advance'), ...(step === 5 ? ['complete'] : [])]);
      expect(s.mappingApplied).toBe(true);
      const want = step === 5 ? 100 : [10, 20, 30, 50, 100][step]!;
      const m = (await mappingOf(store))!;
      expect(m.mode === 'SINGLE_GENERATION' ? 100 : Math.round(m.entries.find((e) => e.generation === 'g3')!.proba * 100)).toBe(want);
    }
  });

  it('ends with the mapping of the one decision that won when a rollback, a promote and an abort race', async () => {
    for (let round = 0; round < 3; round++) {
      const { store } = await shopStore();
      const clock = fakeClock();
      const nodes = [0, 1, 2].map(() => shopNode(store, clock));
      await nodes[0]!.admin('POST', '/services/shop/rollout', start('g2', { steps: [50, 100] }));
      await traffic(nodes[1]!, 200);
      await nodes[1]!.deps.rollouts.windows!.flush();
      clock.advance(MIN);
      const answers = await Promise.all([
        ...nodes.map((n) => n.deps.rollouts.controller.advance('shop')),
        nodes[1]!.admin('POST', '/services/shop/rollout/promote'),
        nodes[2]!.admin('POST', '/services/shop/rollout/abort'),
        ...nodes.map((n) => n.deps.rollouts.controller.advance('shop')),
      ]);
      const s = await stateOf(store);
      const ends = s.history.filter((e) => ['rollback', 'promote', 'abort'].includes(e.action));
      expect(ends).toHaveLength(1);
      const want = { rollback: { mode: 'SINGLE_GENERATION', generation: 'g1' }, abort: { mode: 'SINGLE_GENERATION', generation: 'g1' }, promote: { mode: 'SINGLE_GENERATION', generation: 'g2' } }[ends[0]!.action as 'rollback' | 'abort' | 'promote'];
      expect(await mappingOf(store)).toEqual(want);
      expect(s.mappingApplied).toBe(true);
      // The losers were told: 409 CONFLICT, the rollout no longer running.
      const admins = answers.slice(3, 5) as { status: number; body: { errorType?: string } }[];
      expect(admins.filter((r) => r.status === 200).length).toBe(ends[0]!.action === 'rollback' ? 0 : 1);
      expect(admins.filter((r) => r.status !== 200).every((r) => ['ROLLOUT_NOT_RUNNING', 'CONFLICT'].includes(r.body.errorType ?? ''))).toBe(true);
    }
  });

  it('promotes to 100% at once, aborts back to the exact mapping it started from, and refuses what makes no sense', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    const split = { mode: 'SPLIT', entries: [{ generation: 'g1', proba: 0.7 }, { generation: 'g3', proba: 0.3 }] };
    expect((await node.admin('POST', '/services/shop/actions/setMapping', split)).status).toBe(200);

    expect((await node.admin('POST', '/services/shop/rollout', start('g2'))).status).toBe(201);
    expect(await mappingOf(store)).toEqual({ mode: 'SPLIT', entries: [{ generation: 'g1', proba: 0.63 }, { generation: 'g3', proba: expect.closeTo(0.27, 12) }, { generation: 'g2', proba: 0.1 }] });
    expect((await node.admin('POST', '/services/shop/rollout', start('g3'))).body).toMatchObject({ errorType: 'ROLLOUT_IN_PROGRESS', message: expect.stringContaining('promote or abort') });
    const aborted = await node.admin('POST', '/services/shop/rollout/abort');
    expect(aborted.body).toMatchObject({ phase: 'aborted', reason: 'aborted by bootstrap' });
    expect(await mappingOf(store)).toEqual(split);
    expect((await node.admin('POST', '/services/shop/rollout/abort')).body).toMatchObject({ errorType: 'ROLLOUT_NOT_RUNNING' });

    expect((await node.admin('POST', '/services/shop/rollout', start('g4'))).status).toBe(201);
    expect((await node.admin('POST', '/services/shop/rollout/promote')).body).toMatchObject({ phase: 'completed', step: 2 });
    expect(await mappingOf(store)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g4' });
    expect((await node.admin('POST', '/services/shop/rollout/promote')).status).toBe(409);
    expect((await node.admin('POST', '/services/shop/rollout', start('g4'))).body).toMatchObject({ errorType: 'CONFLICT', message: expect.stringContaining('already has all the traffic') });
  });

  it('reports a damaged rollout.json as 503 and keeps checking the other services', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    await node.admin('POST', '/services/shop/rollout', start('g2'));
    await store.put(layout.rollout('shop'), new TextEncoder().encode('{"phase": "runn'));
    await store.put(layout.rolloutMarker('gone'), new TextEncoder().encode('{}'));
    expect((await node.admin('GET', '/services/shop/rollout')).body).toMatchObject({ errorType: 'SERVICE_CONFIG_INVALID', message: 'services/shop/rollout.json is not valid JSON' });
    expect(await node.deps.rollouts.controller.advanceAll()).toEqual([
      { serviceId: 'gone', phase: 'none' },
      { serviceId: 'shop', phase: 'failed', error: 'SERVICE_CONFIG_INVALID: services/shop/rollout.json is not valid JSON' },
    ]);
  });

  it('writes no metric windows where APINODE_METRIC_WINDOWS=off', async () => {
    const { store } = await shopStore();
    const clock = fakeClock();
    const node = shopNode(store, clock);
    const off = testApp(store, { APINODE_METRIC_WINDOWS: 'off', APINODE_CONFIG_TTL_S: '0' }, { now: clock.now });
    expect(off.deps.rollouts.windows).toBeNull();
    for (let i = 0; i < 5; i++) expect((await off.app.request('/public/api/v1/shop/double/run', { method: 'POST', body: '{"x": 1}' })).status).toBe(200);
    await node.call(1);
    clock.advance(MIN);
    await node.call(1);
    await new Promise((r) => setTimeout(r, 100));
    // Only the instance with windows on wrote (when due: a minute after it started).
    const keys = await store.list('metrics/');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.endsWith(`/${node.deps.rollouts.windows!.instance}.json`))).toBe(true);
  });

  it('answers hostile or wrong requests with a clear JSON error and writes nothing', async () => {
    const { store } = await shopStore();
    const node = shopNode(store, fakeClock());
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/services/shop/rollout', { ...start('g2'), steps: [50, 10, 100] }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', { ...start('g2'), steps: [10, 50] }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', { ...start('g2'), everyS: 1 }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', { ...start('g2'), maxErrorRate: 5 }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', { ...start('g2'), maxP99Ms: 99_999 }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', { ...start('../g2') }, 400, 'INVALID_REQUEST'],
      ['POST', '/services/shop/rollout', '{"generation": ', 400, 'INVALID_JSON'],
      ['POST', '/services/shop/rollout', start('g9'), 409, 'GENERATION_NOT_COMMITTED'],
      ['POST', '/services/nope/rollout', start('g2'), 404, 'SERVICE_NOT_FOUND'],
      ['POST', '/services/..%2Fx/rollout', start('g2'), 400, 'INVALID_REQUEST'],
      ['GET', '/services/shop/rollout', undefined, 404, 'ROLLOUT_NOT_FOUND'],
      ['POST', '/services/shop/rollout/promote', undefined, 404, 'ROLLOUT_NOT_FOUND'],
    ];
    for (const [method, path, body, status, errorType] of cases) {
      const res = await node.admin(method, path, body);
      expect([path, res.status, res.body.errorType]).toEqual([path, status, errorType]);
    }
    expect((await node.admin('POST', '/services/shop/rollout', start('g2'), {})).body.errorType).toBe('MISSING_CREDENTIALS');
    expect(await store.get(layout.rollout('shop'))).toBeNull();
    expect(await mappingOf(store)).toEqual({ mode: 'SINGLE_GENERATION', generation: 'g1' });
  });
});
