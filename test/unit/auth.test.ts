import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { ServiceConfig } from '@apinode/protocol';
import { authenticate, extractKey } from '../../src/api/auth.js';
import { hashKey } from '../../src/services/key-hash.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const service: ServiceConfig = {
  serviceId: 'svc',
  enabled: true,
  auth: { method: 'API_KEYS', keys: [{ label: 'alice', hash: `sha256:${hex('k-alice')}` }, { label: 'bob', hash: `sha256:${hex('k-bob')}` }] },
};
const basic = (user: string, pass = '') => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('authenticate', () => {
  it('stores keys as SHA-256 hex, as an independent hash computes them', async () => {
    expect(await hashKey('k-alice')).toBe(`sha256:${hex('k-alice')}`);
  });

  it('accepts the key as the Basic user name with an empty password (DSS clients)', async () => {
    expect(await authenticate(service, basic('k-bob'))).toBe('bob');
  });

  it('accepts the key as a Bearer token', async () => {
    expect(await authenticate(service, 'Bearer k-alice')).toBe('alice');
  });

  it('answers 401 MISSING_CREDENTIALS without a header', async () => {
    await expect(authenticate(service, undefined)).rejects.toMatchObject({ status: 401, errorType: 'MISSING_CREDENTIALS' });
  });

  it('answers 401 INVALID_CREDENTIALS for an unknown key', async () => {
    await expect(authenticate(service, basic('k-mallory'))).rejects.toMatchObject({ status: 401, errorType: 'INVALID_CREDENTIALS' });
    await expect(authenticate(service, 'Digest abc')).rejects.toMatchObject({ status: 401, errorType: 'INVALID_CREDENTIALS' });
    await expect(authenticate(service, 'Basic !!!not-base64')).rejects.toMatchObject({ status: 401 });
  });

  it('lets anyone call a PUBLIC service', async () => {
    expect(await authenticate({ ...service, auth: { method: 'PUBLIC', keys: [] } }, undefined)).toBeNull();
  });

  it('reads the user name even when a password is sent', () => {
    expect(extractKey(basic('key', 'ignored'))).toBe('key');
    expect(extractKey(basic(''))).toBeNull();
  });
});
