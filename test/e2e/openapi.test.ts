import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { AppEnv } from '../../src/api/env.js';
import { ADMIN_ROUTES } from '../../src/api/openapi/admin-document.js';
import { ALL_ACTIONS } from '../../src/kinds/registry.js';
import { packageDocsAssets } from '../../src/runtime/docs-assets.js';
import { adminTestApp } from '../support/admin-app.js';
import { testApp } from '../support/node-app.js';
import { tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Valid OpenAPI 3.1 (the official schema, by @seriousme/openapi-schema-validator), every $ref resolving. */
async function expectValidOpenApi31(doc: Json): Promise<void> {
  const validator = new Validator();
  // The validator resolves $refs in place: it gets a copy.
  const result = await validator.validate(structuredClone(doc));
  expect(result.errors, JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
  expect(() => validator.resolveRefs()).not.toThrow();
}

const key = { Authorization: 'Bearer demo-key' };

describe('the OpenAPI documents', () => {
  let t: Awaited<ReturnType<typeof adminTestApp>>;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await t.app.request(path, { headers });
    return { res, body: (await res.json()) as Json };
  };
  beforeAll(async () => {
    t = await adminTestApp();
  });

  describe('GET /openapi.json, the user API', () => {
    it('is valid OpenAPI 3.1, needs no credentials and documents every action of every endpoint kind', async () => {
      const { res, body } = await get('/openapi.json');
      expect(res.status).toBe(200);
      await expectValidOpenApi31(body);
      for (const action of ALL_ACTIONS) {
        const op = body.paths[`/public/api/v1/{serviceId}/{endpointId}/${action.name}`]?.[action.method.toLowerCase()];
        expect(op, `${action.method} ${action.name}`).toBeDefined();
        expect(op.responses['200'].content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\//);
        for (const status of ['400', '401', '404', '500', '503']) expect(op.responses[status]).toEqual({ $ref: `#/components/responses/Error${status}` });
        if ('body' in action.input) expect(op.requestBody.content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\//);
        else expect(op.parameters).toEqual([expect.objectContaining({ in: 'query', style: 'form', explode: true })]);
      }
    });

    it('takes its schemas from the protocol package and says which endpoint types answer each action', async () => {
      const { body } = await get('/openapi.json');
      const predict = body.paths['/public/api/v1/{serviceId}/{endpointId}/predict'].post;
      expect(predict.tags).toEqual(['STD_PREDICTION', 'STD_CLUSTERING', 'CUSTOM_PREDICTION']);
      const request = body.components.schemas[predict.requestBody.content['application/json'].schema.$ref.split('/').pop()];
      expect(request.required).toEqual(['features']);
      expect(request.properties.explanations.anyOf[0].properties.nMonteCarloSteps.anyOf[0]).toMatchObject({ minimum: 25, maximum: 1000 });
      expect(body.components.schemas.PredictResponse.properties.timing).toEqual({ $ref: '#/components/schemas/PredictionTiming' });
      expect(body.components.responses.Error401.description).toMatch(/INVALID_CREDENTIALS/);
      // Admin-only error types stay out of the user API's document.
      expect(body.components.responses.Error400.description).not.toMatch(/INVALID_ARCHIVE/);
    });
  });

  describe('GET /public/api/v1/{serviceId}/openapi.json, one service', () => {
    it('needs the service\'s credentials, like any call to it', async () => {
      expect((await get('/public/api/v1/demo/openapi.json')).res.status).toBe(401);
      expect((await get('/public/api/v1/demo/openapi.json', { Authorization: 'Bearer wrong-key' })).res.status).toBe(401);
      expect((await get('/public/api/v1/nope/openapi.json', key)).body.errorType).toBe('SERVICE_NOT_FOUND');
    });

    it('describes the generation the mapping sends most traffic to, each endpoint with its own features from the manifest', async () => {
      const { res, body } = await get('/public/api/v1/demo/openapi.json', key);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-apinode-generation')).toBe('v1');
      await expectValidOpenApi31(body);
      expect(body.info.version).toBe('v1');
      expect(body.info.description).toMatch(/v1 70%, v2 30%/);
      expect(body.tags.map((tag: Json) => tag.name)).toContain('penguin-species');
      expect(body.paths['/public/api/v1/demo/penguin-clusters/predict']).toBeUndefined(); // only in v2

      const predict = body.paths['/public/api/v1/demo/penguin-species/predict'].post;
      const features = predict.requestBody.content['application/json'].schema.properties.features;
      expect(features.properties).toEqual({
        island: { type: 'string' },
        beak_length_mm: { type: 'number' },
        beak_depth_mm: { type: 'number' },
        flipper_length_mm: { type: 'number' },
        body_mass_g: { type: 'number' },
        sex: { type: 'string' },
      });
      const simple = body.paths['/public/api/v1/demo/penguin-species/predict-simple'].get;
      expect(simple.parameters.map((p: Json) => [p.name, p.schema.type])).toContainEqual(['beak_length_mm', 'number']);
      const query = body.paths['/public/api/v1/demo/cars-by-origin/query'];
      expect(Object.keys(query).sort()).toEqual(['get', 'post']);
      expect(body.paths['/public/api/v1/demo/penguin-species/run']).toBeUndefined();
      expect(body.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    });

    it("gives the manifest's examples as request examples that the node answers", async () => {
      const { body } = await get('/public/api/v1/demo/openapi.json', key);
      const path = '/public/api/v1/demo/penguin-species/predict';
      const examples = Object.values(body.paths[path].post.requestBody.content['application/json'].examples) as Json[];
      expect(examples).toHaveLength(3);
      for (const example of examples) {
        const res = await t.app.request(path, { method: 'POST', headers: key, body: JSON.stringify({ ...example.value, dispatch: { forcedGeneration: 'v1' } }) });
        expect(res.status).toBe(200);
        expect(example.summary).toContain(JSON.stringify(((await res.json()) as Json).result.prediction));
      }
      const multi = body.paths['/public/api/v1/demo/penguin-species/predict-multi'].post.requestBody.content['application/json'].examples;
      expect(Object.values(multi)).toEqual([expect.objectContaining({ value: { items: examples.map((e) => ({ features: e.value.features })) } })]);
      const forecast = body.paths['/public/api/v1/demo/stock-forecast/forecast'].post.requestBody.content['application/json'];
      const series = (Object.values(forecast.examples)[0] as Json).value;
      expect(series.items.length).toBeGreaterThan(1);
      expect((await t.app.request('/public/api/v1/demo/stock-forecast/forecast', { method: 'POST', headers: key, body: JSON.stringify(series) })).status).toBe(200);
    });

    it('describes another committed generation when asked, and says 404 for one that is not', async () => {
      const { body } = await get('/public/api/v1/demo/openapi.json?generation=v2', key);
      expect(body.info.version).toBe('v2');
      expect(body.paths['/public/api/v1/demo/penguin-clusters/predict']).toBeDefined();
      expect((await get('/public/api/v1/demo/openapi.json?generation=v9', key)).body.errorType).toBe('GENERATION_NOT_FOUND');
    });

    it('follows the service\'s auth: a PUBLIC service\'s document asks for nothing', async () => {
      await t.call('POST', '/services/demo/actions/setAuth', { method: 'PUBLIC' });
      try {
        const { res, body } = await get('/public/api/v1/demo/openapi.json');
        expect(res.status).toBe(200);
        expect(body.security).toEqual([]);
        expect(body.components.securitySchemes).toEqual({});
        await expectValidOpenApi31(body);
      } finally {
        await t.call('POST', '/services/demo/actions/setAuth', { method: 'API_KEYS' });
      }
    });
  });

  describe('GET /admin/api/openapi.json', () => {
    it('is valid OpenAPI 3.1 and readable without a key', async () => {
      const { res, body } = await get('/admin/api/openapi.json');
      expect(res.status).toBe(200);
      await expectValidOpenApi31(body);
      expect(body.paths['/admin/api/services/{serviceId}/cors'].put.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/CorsSettings' });
      expect(body.components.responses.Error400.description).toMatch(/INVALID_ARCHIVE/);
      expect((await t.app.request('/admin/api/services')).status).toBe(401); // the rest of the admin API still needs one
    });

    it('documents exactly the routes the admin app has', () => {
      const routes = (t.app as Hono<AppEnv>).routes
        .filter((r) => r.path.startsWith('/admin/api/') && r.method !== 'ALL' && r.path !== '/admin/api/openapi.json')
        .map((r) => `${r.method} ${r.path.replace(/\/$/, '')}`);
      const documented = ADMIN_ROUTES.map((r) => `${r.method.toUpperCase()} /admin/api${r.path}`);
      expect([...new Set(routes)].sort()).toEqual([...documented].sort());
    });

    it('is not mounted when the admin API is off', async () => {
      const off = testApp(t.store);
      expect((await off.app.request('/admin/api/openapi.json')).status).toBe(404);
    });
  });
});

describe('the docs page', () => {
  it('is Swagger UI from the node itself, with a policy that lets it reach nothing else', async () => {
    const { store } = await tempStore();
    const { app } = testApp(store, {}, { docsAssets: packageDocsAssets() });
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect(html).not.toContain('value="admin"'); // the admin API is off here
    expect(html).not.toMatch(/https?:\/\//);
    expect((await app.request('/docs/docs.js')).headers.get('content-type')).toMatch(/javascript/);
    const css = await app.request('/docs/assets/swagger-ui.css');
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    // Only the files the page loads: not the rest of the package, not a path out of it.
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2F..%2Fpackage.json', '/docs/assets/swagger-initializer.js']) expect((await app.request(path)).status, path).toBe(404);
  });

  it('says the files are missing where a runtime serves none, and offers the admin document where admin is on', async () => {
    const t = await adminTestApp();
    expect(await (await t.app.request('/docs')).text()).toContain('value="admin"');
    const asset = await t.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(404);
    expect(((await asset.json()) as Json).message).toMatch(/serves no Swagger UI files/);
  });
});
