import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { demoRecords } from '../support/demo-records.js';
import { testApp } from '../support/node-app.js';
import { json, tempStore } from '../support/stores.js';

const car = demoRecords(2)['car-mpg']![0]!;
let server: Server;
let issuer: string;
let privateKey: CryptoKey;
let app: ReturnType<typeof testApp>['app'];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  // A real JWKS endpoint on loopback, as an identity provider serves it.
  server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { store } = await tempStore();
  await seedDemo(store, 'unused-key');
  const cfg = JSON.parse(new TextDecoder().decode((await store.get('services/demo/service.json'))!.body));
  cfg.auth = { method: 'OAUTH2', keys: [], oauth2: { issuer, audience: 'apinode', requiredScope: 'predict' } };
  await store.put('services/demo/service.json', json(cfg));
  app = testApp(store).app;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const token = (claims: Record<string, unknown>, opts: { aud?: string; exp?: string; iss?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? 'apinode')
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(privateKey);

const predict = (authorization?: string) =>
  app.request('/public/api/v1/demo/car-mpg/predict', { method: 'POST', headers: authorization ? { authorization } : {}, body: JSON.stringify({ features: car }) });

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
});
