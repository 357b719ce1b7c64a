import { Hono } from 'hono';
import { ApiError } from '../errors.js';
import type { AppEnv } from './env.js';

/** The files of the swagger-ui-dist package the page loads, with their types: no other is served. */
const ASSET_TYPES = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;
export type DocsAsset = keyof typeof ASSET_TYPES;
export const DOCS_ASSETS = Object.keys(ASSET_TYPES) as DocsAsset[];

/**
 * The runtime's port to Swagger UI's files: the package's files on Node and Lambda, static
 * assets on Workers (outside the script's size limit). Null when the file cannot be read.
 */
export type DocsAssets = (file: DocsAsset) => Promise<Uint8Array<ArrayBuffer> | null>;

// Everything from this node: the page works without internet access, and may not reach out.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * GET /docs: Swagger UI on the node's OpenAPI documents (the user API, the admin API where it is
 * on, or one service with its key), able to send real calls. The key stays in the page: it is
 * sent to this node only, with the service's document request and the calls made from the page.
 */
export function docsPage(assets: DocsAssets | undefined, admin: boolean): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', (c) => c.html(page(admin), 200, { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache' }));
  app.get('/docs.js', (c) => c.body(SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-cache' }));
  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSET_TYPES[file as DocsAsset] as string | undefined;
    const body = type && assets ? await assets(file as DocsAsset) : null;
    if (!type || !body) throw ApiError.notFound('NOT_FOUND', `No docs asset "${file}"${assets ? '' : ' (this deployment serves no Swagger UI files)'}`);
    return c.body(body, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });
  return app;
}

const page = (admin: boolean) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>apinode API docs</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  #pick { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .75rem 1.25rem; background: #1b1b1b; color: #fff; }
  #pick label { display: flex; gap: .4rem; align-items: center; }
  #pick input, #pick select, #pick button { font: inherit; padding: .25rem .4rem; }
  #status { color: #ffcf70; }
</style>
</head>
<body>
<form id="pick">
  <strong>apinode</strong>
  <label>Document <select id="doc">
    <option value="node">User API (every endpoint type)</option>
    <option value="service">One service</option>${admin ? '\n    <option value="admin">Admin API</option>' : ''}
  </select></label>
  <label>Service <input id="service" placeholder="service id" autocomplete="off" spellcheck="false"></label>
  <label>Key <input id="key" type="password" placeholder="API key (stays in this page)" autocomplete="off"></label>
  <button type="submit">Open</button>
  <span id="status" role="status"></span>
</form>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/docs.js"></script>
</body>
</html>
`;

/** The page's own script: loads the chosen document (a service's with the key) and hands the key to Swagger UI's Authorize. */
const SCRIPT = `'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const [pick, doc, service, key, status] = ['pick', 'doc', 'service', 'key', 'status'].map($);
  const say = (text) => (status.textContent = text);
  const wanted = new URLSearchParams(location.search).get('service');
  if (wanted) [doc.value, service.value] = ['service', wanted];
  // A service's document needs its key first: wait for Open.
  const sync = () => (service.disabled = doc.value !== 'service');
  doc.addEventListener('change', () => (sync(), doc.value !== 'service' && open()));
  pick.addEventListener('submit', (e) => (e.preventDefault(), open()));

  function urlOf(which) {
    if (which === 'node') return '/openapi.json';
    if (which === 'admin') return '/admin/api/openapi.json';
    return '/public/api/v1/' + encodeURIComponent(service.value.trim()) + '/openapi.json';
  }

  async function open() {
    if (typeof SwaggerUIBundle !== 'function') return say('Swagger UI is not served by this deployment; the documents are at /openapi.json and /public/api/v1/{serviceId}/openapi.json');
    if (doc.value === 'service' && !service.value.trim()) return say('Name a service, and give its key');
    const secret = key.value.trim();
    const url = urlOf(doc.value);
    say('Loading ' + url + ' …');
    let res, spec;
    try {
      res = await fetch(url, { credentials: 'omit', headers: secret && doc.value === 'service' ? { Authorization: 'Bearer ' + secret } : {} });
      spec = await res.json();
    } catch (e) {
      return say('Cannot load ' + url + ': ' + e.message);
    }
    if (!res.ok) return say(res.status + ' ' + (spec.errorType || '') + ': ' + (spec.message || ''));
    say('');
    const ui = SwaggerUIBundle({
      spec,
      dom_id: '#swagger-ui',
      validatorUrl: null,
      tryItOutEnabled: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: 0,
      onComplete: () => secret && authorize(ui, spec, secret),
      // Credentials travel in the Authorization header only: a 401 must not open the browser's own login prompt.
      requestInterceptor: (req) => ((req.credentials = 'omit'), req),
    });
    window.ui = ui;
  }

  // The first HTTP scheme the document offers (Basic before Bearer for API keys).
  function authorize(ui, spec, secret) {
    const schemes = Object.entries((spec.components && spec.components.securitySchemes) || {});
    const basic = schemes.find(([, s]) => s.type === 'http' && s.scheme === 'basic');
    const bearer = schemes.find(([, s]) => s.type === 'http' && s.scheme === 'bearer');
    if (basic) ui.preauthorizeBasic(basic[0], secret, '');
    else if (bearer) ui.preauthorizeApiKey(bearer[0], secret);
  }

  sync();
  if (doc.value !== 'service') open();
})();
`;
