import { createHash } from 'node:crypto';
import type { Ports } from '../../src/app.js';
import { layout } from '../../src/storage/layout.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { testApp } from './node-app.js';
import { json, tempStore } from './stores.js';

export const ADMIN = 'rollout-admin-key-0123456789';
export const adminAuth = { Authorization: `Bearer ${ADMIN}` };
export const T0 = Date.parse('2026-12-02T05:00:00Z');

/** Function code per generation of service "shop": g1 healthy, g2 fails (500) on x = 13, g3 healthy, g4 slow (~30 ms a call). */
export const CODE = {
  g1: 'export function f(x) { return x * 2 }',
  g2: 'export function f(x) { if (x === 13) throw new Error("unlucky"); return x * 2 }',
  g3: 'export function f(x) { return x * 2 + 0 }',
  g4: 'export function f(x) { const t = Date.now(); while (Date.now() - t < 30) {} return x * 2 }',
} as const;
export type Gen = keyof typeof CODE;

const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

/** Commits the generations of "shop" (one FUNCTION endpoint "double") and maps it all to g1. */
export async function seedShop(store: ObjectStore, gens: readonly Gen[] = ['g1', 'g2', 'g3', 'g4']): Promise<void> {
  for (const g of gens) {
    await store.put(layout.file('shop', g, 'code/f.js'), new TextEncoder().encode(CODE[g]));
    const endpoints = [{ id: 'double', type: 'FUNCTION', function: 'f', code: { file: 'code/f.js', sha256: sha256(CODE[g]) } }];
    await store.put(layout.manifest('shop', g), json({ formatVersion: 1, generation: g, createdAt: `2026-11-0${gens.indexOf(g) + 1}T00:00:00Z`, endpoints }));
  }
  await store.put(layout.service('shop'), json({ serviceId: 'shop', enabled: true, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: 'g1' } }));
}

/** A fake clock every part of the node reads (registry, metric windows, rollout decisions). */
export function fakeClock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms), set: (ms: number) => void (now = ms) };
}

/** One node instance on the store, in-process, with the admin API on and the given clock. */
export function shopNode(store: ObjectStore, clock: { now: () => number }, ports: Partial<Ports> = {}) {
  const node = testApp(store, { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0', APINODE_QUERY_LOG: 'off' }, { now: clock.now, ...ports });
  const admin = async (method: string, path: string, body?: unknown, headers: Record<string, string> = adminAuth) => {
    const res = await node.app.request(`/admin/api${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  /** Calls double(x) and answers which generation answered and with what status. */
  const call = async (x: number) => {
    const res = await node.app.request('/public/api/v1/shop/double/run', { method: 'POST', body: JSON.stringify({ x }) });
    await res.arrayBuffer();
    return { status: res.status, generation: res.headers.get('X-Apinode-Generation') };
  };
  return { ...node, admin, call };
}

export async function shopStore(gens?: readonly Gen[]) {
  const { store, dir } = await tempStore();
  await seedShop(store, gens);
  return { store, dir };
}

/** What the caller saw, per generation: requests and 5xx, counted from the answers themselves. */
export function tally(seen: { status: number; generation: string | null }[], generation: string) {
  const mine = seen.filter((s) => s.generation === generation);
  return { requests: mine.length, serverErrors: mine.filter((s) => s.status >= 500).length };
}
