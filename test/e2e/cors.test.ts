import { APINodeAdminClient } from '@apinode/client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../packages/cli/src/main.js';
import { allows } from '../../src/api/cors.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { layout } from '../../src/storage/layout.js';
import { ADMIN, adminTestApp } from '../support/admin-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('which origins a service grants', () => {
  const cors = { allowedOrigins: ['https://app.example.com', 'http://localhost:*', 'https://legacy.example:443'] };

  it('matches an origin whole and case-blind', () => {
    expect(allows(cors, 'https://app.example.com')).toBe(true);
    expect(allows(cors, 'HTTPS://App.Example.com')).toBe(true);
    expect(allows(cors, 'http://app.example.com')).toBe(false);
    expect(allows(cors, 'https://app.example.com.evil.test')).toBe(false);
    expect(allows(cors, 'https://app.example.com:8443')).toBe(false);
  });

  it('takes "host:*" for the host on any port, or on none', () => {
    expect(allows(cors, 'http://localhost:5173')).toBe(true);
    expect(allows(cors, 'http://localhost')).toBe(true);
    expect(allows(cors, 'http://localhost.evil.test')).toBe(false);
    expect(allows(cors, 'http://localhost:5173.evil.test')).toBe(false);
    expect(allows(cors, 'https://localhost:5173')).toBe(false);
  });

  it('knows browsers leave out a default port, and never grants the "null" origin', () => {
    expect(allows(cors, 'https://legacy.example')).toBe(true);
    expect(allows(cors, 'null')).toBe(false);
  });
});

describe('CORS per service', () => {
  let t: Awaited<ReturnType<typeof adminTestApp>>;
  beforeAll(async () => {
    t = await adminTestApp();
  });
  const preflight = (path: string, origin: string) =>
    t.app.request(path, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' } });

  it('answers preflights on both user-API path shapes, /public/api/v1/{id}/… and /oip/{id}/…', async () => {
    for (const path of ['/public/api/v1/demo/car-mpg/predict', '/public/api/v1/demo/openapi.json', '/oip/demo/v2/models/car-mpg/infer']) {
      const res = await preflight(path, 'http://127.0.0.1:8080');
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin'), path).toBe('http://127.0.0.1:8080');
      expect(res.headers.get('access-control-max-age')).toBe('600');
    }
  });

  it('grants nothing for a service that does not exist, or that lists no origins', async () => {
    expect((await preflight('/public/api/v1/nope/car-mpg/predict', 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBeNull();
    await t.call('POST', '/services', { serviceId: 'closed' });
    expect((await preflight('/public/api/v1/closed/x/predict', 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is set with PUT /admin/api/services/{id}/cors, audited, and takes effect at once on this instance', async () => {
    const set = await t.call('PUT', '/services/demo/cors', { allowedOrigins: ['https://app.example.com'], maxAgeS: 60 });
    expect(set).toEqual({ status: 200, body: { allowedOrigins: ['https://app.example.com'], maxAgeS: 60 } });
    expect(t.audit).toContainEqual(expect.objectContaining({ action: 'service.cors', serviceId: 'demo', allowedOrigins: ['https://app.example.com'] }));
    const granted = await preflight('/public/api/v1/demo/car-mpg/predict', 'https://app.example.com');
    expect(granted.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(granted.headers.get('access-control-max-age')).toBe('60');
    expect((await preflight('/public/api/v1/demo/car-mpg/predict', 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBeNull();

    const answer = await t.app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: { Origin: 'https://app.example.com' }, body: '{}' });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(answer.headers.get('vary')).toBe('Origin');
  });

  it('refuses an origin with a path, a trailing slash or a wildcard host, saying what an origin is', async () => {
    for (const origin of ['https://app.example.com/', 'https://app.example.com/page', '*', 'https://*.example.com', 'app.example.com']) {
      const res = await t.call('PUT', '/services/demo/cors', { allowedOrigins: [origin] });
      expect(res.status, origin).toBe(400);
      expect((res.body as Json).detailedMessage).toMatch(/scheme:\/\/host\[:port\]/);
    }
    expect((await t.call('PUT', '/services/nope/cors', { allowedOrigins: [] })).status).toBe(404);
  });

  it('is one method of the typed admin client, and [] allows no page', async () => {
    const client = new APINodeAdminClient('http://node.test', ADMIN, { fetch: (r) => Promise.resolve(t.app.fetch(r)) });
    expect(await client.setCors('demo', ['http://localhost:*'])).toEqual({ allowedOrigins: ['http://localhost:*'] });
    expect((await preflight('/public/api/v1/demo/car-mpg/predict', 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(await client.setCors('demo', [])).toEqual({ allowedOrigins: [] });
    expect((await preflight('/public/api/v1/demo/car-mpg/predict', 'http://localhost:3000')).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('apinode-admin service cors', () => {
  it('sets the origins of a service in a bucket, and with none clears them', async () => {
    const { store, dir } = await tempStore();
    await seedDemo(store, 'demo-key');
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.stubEnv('APINODE_CLI_AUDIT', 'off');
    try {
      expect(await main(['service', 'cors', 'demo', 'https://app.example.com', 'http://localhost:*', '--bucket', dir])).toBe(0);
      expect(out.join('')).toMatch(/demo: web pages from https:\/\/app\.example\.com, http:\/\/localhost:\* may call it/);
      const stored = JSON.parse(new TextDecoder().decode((await store.get(layout.service('demo')))!.body)) as Json;
      expect(stored.cors).toEqual({ allowedOrigins: ['https://app.example.com', 'http://localhost:*'] });
      expect(await main(['service', 'cors', 'demo', '--bucket', dir, '--json'])).toBe(0);
      expect(JSON.parse(out.at(-1)!)).toEqual({ allowedOrigins: [] });
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
