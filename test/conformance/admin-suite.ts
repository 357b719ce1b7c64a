import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packTarGz } from '../../src/services/archive.js';
import { demoGenerationAs } from '../support/demo-archive.js';
import { demoRecords } from '../support/demo-records.js';
import type { Target } from './suite.js';

/** Admin settings every target applies along with CONFORMANCE_ENV to run the admin suite. */
export const ADMIN_KEY = 'conformance-admin-key-0123456789';
export const ADMIN_ENV = { APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN_KEY, APINODE_CONFIG_TTL_S: '0' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The admin API over HTTP on a runtime: a service's whole life on its own service id, so it
 * never disturbs the demo the user-API suite relies on.
 */
export function adminConformanceSuite(runtime: string, start: () => Promise<Target>): void {
  describe(`admin API conformance on ${runtime}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => t?.close());
    const admin = { Authorization: `Basic ${btoa(`${ADMIN_KEY}:`)}` };
    const call = async (method: string, path: string, body?: unknown) => {
      const init: RequestInit = { method, headers: admin };
      if (body instanceof Uint8Array) init.body = body as Uint8Array<ArrayBuffer>;
      else if (body !== undefined) init.body = JSON.stringify(body);
      const res = await t.fetch(`/admin/api${path}`, init);
      return { status: res.status, body: (await res.json()) as Json };
    };

    it('takes a service from creation to a rolled-back mapping and deletion', async () => {
      const sid = `conf-${runtime.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      expect((await call('POST', '/services', { serviceId: sid, auth: 'PUBLIC' })).status).toBe(201);
      for (const [gen, at] of [['a', '2026-11-01T00:00:00Z'], ['b', '2026-11-02T00:00:00Z']] as const) {
        const imported = await call('POST', `/services/${sid}/generations`, packTarGz(await demoGenerationAs('v1', gen, at)));
        expect(imported.status).toBe(201);
      }
      expect((await call('POST', `/services/${sid}/actions/switchToNewest`)).body.mapping).toEqual({ mode: 'SINGLE_GENERATION', generation: 'b' });
      const features = demoRecords(2)['car-mpg']![0]!;
      const predict = () => t.fetch(`/public/api/v1/${sid}/car-mpg/predict`, { method: 'POST', body: JSON.stringify({ features }) });
      expect((await predict()).headers.get('x-apinode-generation')).toBe('b');
      expect((await call('POST', `/services/${sid}/actions/switchTo/a`)).status).toBe(200);
      expect((await predict()).headers.get('x-apinode-generation')).toBe('a');
      expect((await call('GET', `/services/${sid}/generations`)).body.generations.map((g: Json) => g.generation)).toEqual(['a', 'b']);
      expect((await call('DELETE', `/services/${sid}`)).status).toBe(200);
      expect((await predict()).status).toBe(404);
    });

    it('rejects an invalid generation with 400 and a duplicate with 409, leaving nothing visible', async () => {
      const sid = `conf-bad-${runtime.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
      await call('POST', '/services', { serviceId: sid });
      const bad = await call('POST', `/services/${sid}/generations`, packTarGz(await demoGenerationAs('v1', 'x', '2026-11-01T00:00:00Z', (m) => (m.endpoints[0].examples[0].expected.prediction = 'Dodo'))));
      expect(bad.status).toBe(400);
      expect(bad.body.errorType).toBe('INVALID_GENERATION');
      expect((await call('GET', `/services/${sid}/generations`)).body.generations).toEqual([]);
      expect((await call('POST', `/services/${sid}/generations`, packTarGz(await demoGenerationAs('v1', 'y', '2026-11-01T00:00:00Z')))).status).toBe(201);
      expect((await call('POST', `/services/${sid}/generations`, packTarGz(await demoGenerationAs('v1', 'y', '2026-11-01T00:00:00Z')))).status).toBe(409);
      await call('DELETE', `/services/${sid}`);
    });

    it('answers 401 to a caller without an admin key', async () => {
      expect((await t.fetch('/admin/api/services')).status).toBe(401);
    });
  });
}
