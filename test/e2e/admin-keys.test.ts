import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashKey } from '../../src/services/key-hash.js';
import { adminTestApp } from '../support/admin-app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
let t: Awaited<ReturnType<typeof adminTestApp>>;
const as = (key: string) => ({ Authorization: `Bearer ${key}` });
const OLD_KEY = 'an-admin-key-from-before-ids-0123';

beforeEach(async () => {
  t = await adminTestApp();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('key ids', () => {
  it('gives every new admin key a random id of its own, labels being free text', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await t.call('POST', '/keys', { label: 'same' })).body.id);
    expect(ids.size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    const stored = JSON.parse(new TextDecoder().decode((await t.store.get('admin/keys.json'))!.body)) as { keys: Json[] };
    expect(new Set(stored.keys.map((k) => k.id))).toEqual(ids);
  });

  it('keeps admin keys stored before ids: a stable id from the hash, written back with the next change', async () => {
    const hash = await hashKey(OLD_KEY);
    await t.store.put('admin/keys.json', new TextEncoder().encode(JSON.stringify({ keys: [{ label: 'old', hash, createdAt: '2025-01-01T00:00:00Z' }] })));
    const derived = hash.slice(7, 23);
    expect((await t.call('GET', '/keys', undefined, as(OLD_KEY))).body.keys).toEqual([{ id: derived, label: 'old', createdAt: '2025-01-01T00:00:00Z', hashPrefix: hash.slice(7, 15) }]);
    await t.call('POST', '/services', { serviceId: 'by-old' }, as(OLD_KEY));
    expect(t.audit.find((l) => l.action === 'service.create')).toMatchObject({ who: 'old', whoKeyId: derived });

    await t.call('POST', '/keys', { label: 'new' });
    const stored = JSON.parse(new TextDecoder().decode((await t.store.get('admin/keys.json'))!.body)) as { keys: Json[] };
    expect(stored.keys.find((k) => k.label === 'old')!.id).toBe(derived);
    expect((await t.call('DELETE', `/keys/${derived}/key`)).body).toEqual({ revoked: true, id: derived });
    expect((await t.call('GET', '/keys', undefined, as(OLD_KEY))).status).toBe(401);
  });

  it('gives service keys ids too, derived for keys stored before ids, and revokes them by id', async () => {
    const demo = (await t.call('GET', '/services/demo/keys')).body.keys as Json[];
    expect(demo).toEqual([expect.objectContaining({ id: (await hashKey('demo-key')).slice(7, 23), label: 'demo' })]);
    const added = await t.call('POST', '/services/demo/keys', { label: 'partner' });
    expect(added.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), label: 'partner', key: expect.any(String) });
    expect((await t.call('DELETE', `/services/demo/keys/${demo[0]!.id}`)).body).toEqual({ revoked: true, id: demo[0]!.id });
    expect((await t.predict('demo', 'demo-key')).status).toBe(401);
    expect((await t.predict('demo', added.body.key)).status).toBe(200);
    expect((await t.call('GET', '/services/demo/keys')).body.keys.map((k: Json) => k.id)).toEqual([added.body.id]);
  });
});

describe('key expiry', () => {
  const NOW = new Date('2026-06-01T12:00:00Z');
  const expiresAt = async (expiry: unknown) => (await t.call('POST', '/keys', { label: 'e', expiry })).body;

  it('reads a lifetime in days, a date (valid through that day) or a date-time with a zone', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    expect((await expiresAt(30)).expiresAt).toBe('2026-07-01T12:00:00.000Z');
    expect((await expiresAt('7')).expiresAt).toBe('2026-06-08T12:00:00.000Z');
    expect((await expiresAt('2026-12-31')).expiresAt).toBe('2027-01-01T00:00:00.000Z');
    expect((await expiresAt('2026-06-02T08:00:00+02:00')).expiresAt).toBe('2026-06-02T06:00:00.000Z');
    expect((await expiresAt(null)).expiresAt).toBeUndefined();
    for (const bad of ['next week', '2026-06-02T08:00:00', '2026-05-01', 0, -3, true]) {
      expect((await expiresAt(bad)).errorType, String(bad)).toBe('INVALID_REQUEST');
    }
  });

  it('refuses an expired admin key with 401 KEY_EXPIRED, and lists it as expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW });
    const key = await expiresAt('2026-06-02T08:00:00+02:00');
    expect((await t.call('GET', '/services', undefined, as(key.key))).status).toBe(200);
    vi.setSystemTime(new Date('2026-06-02T06:00:00Z'));
    const refused = await t.call('GET', '/services', undefined, as(key.key));
    expect(refused.status).toBe(401);
    expect(refused.body.errorType).toBe('KEY_EXPIRED');
    expect((await t.call('GET', '/keys')).body.keys).toEqual([expect.objectContaining({ id: key.id, expiresAt: '2026-06-02T06:00:00.000Z', expired: true })]);
  });
});

describe('raw keys', () => {
  it('never appear in a log line, an audit line or an error body, whichever way a key is revoked', async () => {
    const created = (await t.call('POST', '/keys', { label: 'secret-test', description: 'kept out of logs' })).body;
    const raw = created.key as string;
    expect((await t.call('POST', '/services', { serviceId: 'by-secret' }, as(raw))).status).toBe(201);
    expect((await t.call('DELETE', `/keys/${raw}`)).body).toEqual({ revoked: true, id: created.id });
    const bodies = [await t.call('DELETE', `/keys/${raw}`), await t.call('DELETE', `/keys/${raw}/key`), await t.call('GET', '/services', undefined, as(raw))];
    expect(bodies.map((b) => b.status)).toEqual([404, 404, 401]);
    const service = (await t.call('POST', '/services/demo/keys', { label: 'svc' })).body.key as string;
    await t.call('DELETE', `/services/demo/keys/${service}`);
    const gone = await t.call('DELETE', `/services/demo/keys/${service}`);
    expect(gone.status).toBe(404);
    for (const secret of [raw, service]) expect(JSON.stringify([...bodies, gone, t.audit])).not.toContain(secret);
    expect(t.audit.filter((l) => l.msg === 'audit').map((l) => [l.who, l.action, l.keyId])).toEqual([
      ['bootstrap', 'admin.key.add', created.id],
      ['secret-test', 'service.create', undefined],
      ['bootstrap', 'admin.key.revoke', created.id],
      ['bootstrap', 'service.key.add', expect.any(String)],
      ['bootstrap', 'service.key.revoke', expect.any(String)],
    ]);
  });
});

describe('brought keys', () => {
  it('are refused with 400 unless every client can send them, and the refusal never repeats them', async () => {
    const bad = ['has:colon-0123456789', 'has space-0123456789', 'has\r\nline-break-0123', 'non-ascii-é-0123456789', 'padding=inside-0123456789', 'short-key'];
    for (const key of bad) {
      for (const path of ['/keys', '/services/demo/keys']) {
        const res = await t.call('POST', path, { key });
        expect(res.status, `${path} ${JSON.stringify(key)}`).toBe(400);
        expect(res.body.errorType).toBe('INVALID_REQUEST');
        expect(JSON.stringify(res.body)).not.toContain(key);
      }
    }
    expect((await t.call('GET', '/keys')).body.keys).toEqual([]);
    expect((await t.call('GET', '/services/demo/keys')).body.keys).toHaveLength(1);
  });

  it('are taken when made of letters, digits and - . _ ~ + / with = padding, and work as Basic and Bearer', async () => {
    const key = 'Ab0-._~+/xyz0123456789==';
    expect((await t.call('POST', '/services/demo/keys', { label: 'b64', key })).status).toBe(201);
    expect((await t.predict('demo', key)).status).toBe(200);
    const basic = await t.app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: { Authorization: `Basic ${btoa(`${key}:`)}` }, body: JSON.stringify({ features: {} }) });
    expect(basic.status).not.toBe(401);
  });

  it('the node generates are always sendable', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await t.call('POST', '/keys', {})).body.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await t.call('POST', '/services/demo/keys', {})).body.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});

describe('revoking by hash prefix', () => {
  it('revokes the one key whose SHA-256 starts with the prefix lists show, admin and service keys alike', async () => {
    const admin = (await t.call('POST', '/keys', { label: 'p' })).body;
    expect((await t.call('DELETE', `/keys/${admin.hashPrefix}`)).body).toEqual({ revoked: true, id: admin.id });
    expect((await t.call('GET', '/services', undefined, as(admin.key))).status).toBe(401);
    const service = (await t.call('POST', '/services/demo/keys', { label: 'p' })).body;
    const full = (await hashKey(service.key)).slice(0, 7 + 20);
    expect((await t.call('DELETE', `/services/demo/keys/${full}`)).body).toEqual({ revoked: true, id: service.id });
    expect((await t.predict('demo', service.key)).status).toBe(401);
    expect((await t.call('DELETE', `/services/demo/keys/${full}`)).status).toBe(404);
  });
});
