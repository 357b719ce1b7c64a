import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, type Target } from './suite.js';

/**
 * CORS per service on every runtime: the demo service allows pages from http://localhost:* and
 * http://127.0.0.1:* (src/runtime/node-demo.ts). Browsers send a preflight without credentials,
 * then the call; both must carry the grant, errors included, and nothing for other origins.
 */
export function corsConformanceSuite(runtime: string, start: () => Promise<Target>): void {
  describe(`CORS on ${runtime}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => t?.close());

    const page = 'http://localhost:5173';
    const preflight = (origin: string) =>
      t.fetch('/public/api/v1/demo/penguin-species/predict', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
      });

    it('answers a preflight from an allowed origin before authentication, granting that origin only', async () => {
      const res = await preflight(page);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(page);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('authorization, content-type');
      expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
      expect(res.headers.get('vary')).toMatch(/Origin/i);
    });

    it('grants nothing to an origin the service does not list', async () => {
      const res = await preflight('https://evil.example');
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-methods')).toBeNull();
    });

    it('grants the answer of a call, and of a call that fails authentication', async () => {
      const body = JSON.stringify({ features: { island: 'Biscoe', beak_length_mm: 48.6, sex: 'MALE' } });
      const ok = await t.fetch('/public/api/v1/demo/penguin-species/predict', { method: 'POST', headers: { Origin: page, Authorization: `Bearer ${DEMO_KEY}` }, body });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(page);
      expect(ok.headers.get('access-control-expose-headers')).toMatch(/X-Apinode-Generation/);
      const refused = await t.fetch('/public/api/v1/demo/penguin-species/predict', { method: 'POST', headers: { Origin: page }, body });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('access-control-allow-origin')).toBe(page);
      const other = await t.fetch('/public/api/v1/demo/penguin-species/predict', { method: 'POST', headers: { Origin: 'https://evil.example', Authorization: `Bearer ${DEMO_KEY}` }, body });
      expect(other.status).toBe(200);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });

    it("lets an allowed page read the service's OpenAPI document, with the service's key", async () => {
      const res = await t.fetch('/public/api/v1/demo/openapi.json', { headers: { Origin: page, Authorization: `Bearer ${DEMO_KEY}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(page);
      const doc = (await res.json()) as { openapi: string; info: { version: string }; paths: Record<string, unknown> };
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.info.version).toBe('v1');
      expect(Object.keys(doc.paths)).toContain('/public/api/v1/demo/penguin-species/predict');
    });
  });
}
