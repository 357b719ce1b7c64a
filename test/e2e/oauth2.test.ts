import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { adminTestApp } from '../support/admin-app.js';
import { demoRecords } from '../support/demo-records.js';

let server: Server;
let silent: Server;
let issuer: string;
let silentIssuer: string;
let privateKey: CryptoKey;
/** JWKS requests the identity provider has answered, by path. */
const fetched: Record<string, number> = {};
let t: Awaited<ReturnType<typeof adminTestApp>>;

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  // A real JWKS endpoint on loopback, as an identity provider serves it: plain http, which the
  // node accepts only with APINODE_OAUTH2_ALLOW_HTTP_JWKS=on.
  server = createServer((req, res) => {
    fetched[req.url ?? ''] = (fetched[req.url ?? ''] ?? 0) + 1;
    if (req.url?.endsWith('/jwks.json')) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end();
  });
  issuer = await listen(server);
  // An identity provider that accepts connections and never answers.
  silent = createServer(() => undefined);
  silentIssuer = await listen(silent);
  t = await adminTestApp({ APINODE_OAUTH2_ALLOW_HTTP_JWKS: 'on' });
  for (const [sid, settings] of [
    ['demo', { issuer, audience: 'apinode', requiredScope: 'predict' }],
    ['counted', { issuer, audience: 'apinode', jwksUri: `${issuer}/counted/jwks.json` }],
    ['mute', { issuer: silentIssuer, audience: 'apinode' }],
  ] as const) {
    if (sid !== 'demo') {
      await t.call('POST', '/services', { serviceId: sid });
      await t.call('POST', `/services/${sid}/actions/switchTo/v1`);
    }
    expect((await t.call('POST', `/services/${sid}/actions/setAuth`, { method: 'OAUTH2', oauth2: settings })).status).toBe(200);
  }
});
afterAll(async () => {
  silent.closeAllConnections();
  await Promise.all([server, silent].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const token = (claims: Record<string, unknown>, opts: { aud?: string; exp?: string; iss?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? 'apinode')
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(privateKey);

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claims = () => ({ iss: issuer, aud: 'apinode', sub: 'mallory', scope: 'predict', exp: Math.floor(Date.now() / 1000) + 300 });

const car = demoRecords(2)['car-mpg']![0]!;
const predict = (authorization?: string, service = 'demo') =>
  t.app.request(`/public/api/v1/${service}/car-mpg/predict`, { method: 'POST', headers: authorization ? { authorization } : {}, body: JSON.stringify({ features: car }) });

describe('OAUTH2 services', () => {
  it('accept a Bearer JWT signed by the issuer, for the audience, with the scope', async () => {
    expect((await predict(`Bearer ${await token({ scope: 'read predict' })}`)).status).toBe(200);
  });

  it('answer 401 for a missing, expired, foreign or mistargeted token', async () => {
    expect((await predict()).status).toBe(401);
    expect((await predict(`Bearer ${await token({ scope: 'predict' }, { exp: '-1m' })}`)).status).toBe(401);
    expect((await predict(`Bearer ${await token({ scope: 'predict' }, { aud: 'someone-else' })}`)).status).toBe(401);
    expect((await predict(`Bearer ${await token({ scope: 'predict' }, { iss: 'https://evil.example' })}`)).status).toBe(401);
    expect((await predict('Bearer not.a.jwt')).status).toBe(401);
    expect((await predict(`Basic ${btoa('key:')}`)).status).toBe(401);
  });

  it('answer 403 FORBIDDEN for a valid token without the required scope', async () => {
    const res = await predict(`Bearer ${await token({ scope: 'read' })}`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errorType: string }).errorType).toBe('FORBIDDEN');
  });

  it('refuse alg "none" and HMAC tokens with 401 at once, without fetching the JWKS', async () => {
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`;
    const hs256 = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode('a-secret-anyone-could-pick-0123456789'));
    for (const forged of [none, hs256]) {
      const started = Date.now();
      const res = await predict(`Bearer ${forged}`, 'counted');
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errorType: string }).errorType).toBe('INVALID_CREDENTIALS');
      expect(Date.now() - started).toBeLessThan(500);
    }
    expect(fetched['/counted/jwks.json'] ?? 0).toBe(0);
    // An RS256 token is what makes the node fetch that JWKS.
    expect((await predict(`Bearer ${await token({})}`, 'counted')).status).not.toBe(401);
    expect(fetched['/counted/jwks.json']).toBe(1);
  });

  it('answer 503 within about 2 s when the JWKS never answers', async () => {
    const started = Date.now();
    const res = await predict(`Bearer ${await token({}, { iss: silentIssuer })}`, 'mute');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { errorType: string }).errorType).toBe('AUTH_PROVIDER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2800);
  });
});

describe('setAuth with OAUTH2', () => {
  const setAuth = (app: typeof t, jwksUri: string) => app.call('POST', '/services/demo/actions/setAuth', { method: 'OAUTH2', oauth2: { issuer: 'https://id.example', audience: 'apinode', jwksUri } });

  it('takes https JWKS URIs only, unless APINODE_OAUTH2_ALLOW_HTTP_JWKS allows plain http', async () => {
    const strict = await adminTestApp();
    expect((await setAuth(strict, 'https://id.example/jwks.json')).status).toBe(200);
    const http = await setAuth(strict, 'http://id.example/jwks.json');
    expect(http.status).toBe(400);
    expect(http.body.detailedMessage).toMatch(/APINODE_OAUTH2_ALLOW_HTTP_JWKS/);
    const derived = await strict.call('POST', '/services/demo/actions/setAuth', { method: 'OAUTH2', oauth2: { issuer: 'http://id.example', audience: 'apinode' } });
    expect(derived.status).toBe(400);
    expect((await setAuth(t, 'http://id.example/jwks.json')).status).toBe(200);
  });

  it('never takes file:, data: or other schemes, whatever the setting', async () => {
    for (const uri of ['file:///etc/passwd', 'data:application/json,{"keys":[]}', 'ftp://id.example/jwks.json']) {
      const res = await setAuth(t, uri);
      expect(res.status, uri).toBe(400);
      expect(res.body.errorType).toBe('INVALID_REQUEST');
    }
  });
});
