import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { unstable_readConfig } from 'wrangler';

/** wrangler.toml as wrangler itself reads it for each environment (inheritance rules included). */
const CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url));
const read = (env?: string) => unstable_readConfig({ config: CONFIG, env });
const top = read();
const pairs = [
  ['staging', 'staging-admin'],
  ['production', 'production-admin'],
] as const;

describe('wrangler.toml environments', () => {
  it('keeps the top level what `npm run dev:worker` runs: one bucket, no admin, no cron, port 12000', () => {
    expect(top.name).toBe('apinode');
    expect(top.r2_buckets).toEqual([{ binding: 'GENERATIONS', bucket_name: 'apinode-generations' }]);
    expect(top.vars.APINODE_ADMIN).toBeUndefined();
    expect(top.triggers.crons ?? []).toEqual([]);
    expect(top.dev).toMatchObject({ ip: '127.0.0.1', port: 12000, local_protocol: 'http' });
  });

  it.each(pairs)('%s: a user-facing Worker and its admin Worker from the same code, on one bucket of their own', (user, admin) => {
    // GIVEN the environment as wrangler resolves it / THEN
    const u = read(user);
    const a = read(admin);
    for (const c of [u, a]) {
      expect(c.main).toBe(top.main);
      expect(c.rules).toEqual(top.rules);
      expect(c.assets?.directory).toBe(top.assets?.directory);
      expect(c.routes?.length).toBe(1);
      // bindings and vars are not inherited: each environment repeats the top level's
      expect(c.vars).toMatchObject(top.vars);
    }
    expect(u.name).toBe(`apinode-${user}`);
    expect(a.name).toBe(`apinode-${admin}`);
    expect(u.r2_buckets).toEqual([{ binding: 'GENERATIONS', bucket_name: `apinode-generations-${user}` }]);
    expect(a.r2_buckets).toEqual(u.r2_buckets);
    // the admin API is on in the admin Worker only, its key is a secret (never a var), and it alone advances rollouts
    expect(u.vars.APINODE_ADMIN).toBeUndefined();
    expect(a.vars.APINODE_ADMIN).toBe('on');
    expect(Object.keys(a.vars).filter((k) => /KEY|SECRET|TOKEN|PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
    expect(a.triggers.crons).toEqual(['* * * * *']);
    expect(u.triggers.crons ?? []).toEqual([]);
    expect(JSON.stringify(a.routes)).not.toBe(JSON.stringify(u.routes));
  });

  it('gives staging and production different buckets and routes', () => {
    const [s, p] = [read('staging'), read('production')];
    expect(s.r2_buckets[0]!.bucket_name).not.toBe(p.r2_buckets[0]!.bucket_name);
    expect(JSON.stringify(s.routes)).not.toBe(JSON.stringify(p.routes));
    expect(p.workers_dev).toBe(false);
  });
});
