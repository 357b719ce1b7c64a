/**
 * The attacks of issue 15 that apply where there are no threads (Workers): every read of what
 * user code produced is on the CPU meter, so each ends in a typed error instead of a hang;
 * Cloudflare's per-request CPU limit is the backstop beyond (docs/isolation.md).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layout } from '../../src/storage/layout.js';
import { json } from '../support/stores.js';
import { buildWorker, startWorkerd, type Workerd } from '../workers/workerd.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const MODULES: Record<string, string> = {
  'code/getter.js': 'export function f() { throw { get message() { for (;;) {} } } }',
  'code/proxy.js': 'export function f() { throw new Proxy({}, { get() { for (;;) {} }, ownKeys() { for (;;) {} } }) }',
  'code/loop.js': 'export function f() { for (;;) {} }',
  'code/big.js': 'export function f(mib) { return "x".repeat(mib * 1024 * 1024) }',
};
const fn = (id: string, file: string, limits: Json = {}) => ({ id, type: 'FUNCTION', function: 'f', code: { file, sha256: sha256(MODULES[file]!), limits: { cpuTimeMs: 500, memoryMiB: 32, ...limits } } });

describe('code endpoints on workerd (no threads), under attack', () => {
  let w: Workerd;
  const run = async (endpoint: string, args: Json = {}) => {
    const res = await w.fetch(`/public/api/v1/lab/${endpoint}/run`, { method: 'POST', body: JSON.stringify(args) });
    return { status: res.status, body: (await res.json()) as Json };
  };

  beforeAll(async () => {
    w = await startWorkerd(await buildWorker(), { vars: { APINODE_QUERY_LOG: 'off', APINODE_CODE_MAX_ANSWER_BYTES: '1048576' } });
    for (const [file, text] of Object.entries(MODULES)) await w.store.put(layout.file('lab', 'g1', file), new TextEncoder().encode(text));
    const endpoints = [fn('getter', 'code/getter.js'), fn('proxy', 'code/proxy.js'), fn('loop', 'code/loop.js'), fn('big', 'code/big.js')];
    await w.store.put(layout.manifest('lab', 'g1'), json({ formatVersion: 1, generation: 'g1', createdAt: '2026-11-01T00:00:00Z', endpoints }));
    await w.store.put(layout.service('lab'), json({ serviceId: 'lab', enabled: true, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
  }, 120_000);
  afterAll(() => w?.close());

  it('stops a thrown value whose getters loop (an object, a Proxy) with CODE_TIMEOUT, and keeps serving', async () => {
    expect(await run('getter')).toMatchObject({ status: 500, body: { errorType: 'CODE_TIMEOUT' } });
    expect(await run('proxy')).toMatchObject({ status: 500, body: { errorType: 'CODE_TIMEOUT' } });
    expect(await run('big', { mib: 0 })).toMatchObject({ status: 200, body: { response: '' } });
  }, 60_000);

  it('stops a CPU loop at its limit', async () => {
    expect(await run('loop')).toMatchObject({ status: 500, body: { errorType: 'CODE_TIMEOUT', message: expect.stringContaining('500 ms') } });
  }, 60_000);

  it("refuses an answer over the operator's byte cap", async () => {
    const r = await run('big', { mib: 2 });
    expect(r).toMatchObject({ status: 500, body: { errorType: 'CODE_ANSWER_TOO_LARGE', message: expect.stringContaining('1048576 bytes') } });
    expect(JSON.stringify(r.body).length).toBeLessThan(2000);
  }, 60_000);
});
