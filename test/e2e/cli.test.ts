import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, type NodeServer } from '../../src/runtime/node.js';
import { packTarGz } from '../../src/services/archive.js';
import { DEMO_GENERATIONS, readFolder } from '../support/demo-archive.js';
import { BUCKET, LocalS3 } from '../s3/s3-server.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/apinode-admin.mjs', import.meta.url));
const ADMIN = 'cli-test-admin-key-0123456789';

// The bin runs the built JavaScript (packages/cli/dist, on @apinode/node's dist), as it does
// once installed: build both from the current sources first (esbuild, about a second).
beforeAll(() => {
  for (const pkg of ['node', 'cli']) {
    execFileSync(process.execPath, [fileURLToPath(new URL(`../../packages/${pkg}/build.mjs`, import.meta.url)), '--no-types'], { stdio: 'pipe' });
  }
});

/** Runs the real apinode-admin binary on plain Node (no TypeScript loader); never throws, answers exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '', APINODE_CLI_AUDIT: 'off', ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('apinode-admin against a running node', () => {
  let node: NodeServer;
  let target: string[];
  let imports: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apinode-cli-node-'));
    imports = await mkdtemp(join(tmpdir(), 'apinode-cli-imports-'));
    node = await start({ PORT: '0', APINODE_DATA_DIR: dir, APINODE_DEMO_KEY: 'cli-demo-key', APINODE_QUERY_LOG: 'off', APINODE_ADMIN: 'on', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0', APINODE_IMPORT_DIR: imports });
    target = ['--url', node.url, '--admin-key', ADMIN];
  });
  afterAll(() => node?.close());

  it('creates a service, pushes a generation folder, maps it and serves it', async () => {
    expect((await cli(['service', 'create', 'cli-svc', '--auth', 'PUBLIC', ...target])).code).toBe(0);
    const push = await cli(['generation', 'push', join(DEMO_GENERATIONS, 'v1'), '--service', 'cli-svc', '--json', ...target]);
    expect(push.code).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ serviceId: 'cli-svc', generation: 'v1', examplesChecked: 13 });
    expect((await cli(['mapping', 'switch', 'cli-svc', 'v1', ...target])).stdout).toMatch(/all traffic to v1/);
    const res = await fetch(`${node.url}/public/api/v1/cli-svc/car-mpg/predict`, { method: 'POST', body: JSON.stringify({ features: { cylinders: 4, weight_lbs: 2200 } }) });
    expect(res.status).toBe(200);
    const list = JSON.parse((await cli(['generation', 'list', 'cli-svc', '--json', ...target])).stdout);
    expect(list.generations).toEqual([expect.objectContaining({ generation: 'v1', proba: 1 })]);
  });

  it('adds a key that works on the user API, and shows it only once', async () => {
    const added = JSON.parse((await cli(['key', 'add', 'demo', '--label', 'cli', '--json', ...target])).stdout);
    expect((await fetch(`${node.url}/public/api/v1/demo/car-mpg/predict`, { method: 'POST', headers: { Authorization: `Bearer ${added.key}` }, body: '{"features":{}}' })).status).toBe(200);
    const listed = await cli(['key', 'list', 'demo', ...target]);
    expect(listed.stdout).toContain('cli');
    expect(listed.stdout).not.toContain(added.key);
  });

  it('imports from the node\'s import folder, manages admin keys by id, cleans up and clears the cache', async () => {
    await writeFile(join(imports, 'v2.tar.gz'), packTarGz(await readFolder(join(DEMO_GENERATIONS, 'v2'))));
    expect((await cli(['service', 'create', 'cli-path', ...target])).code).toBe(0);
    const imported = await cli(['generation', 'import-path', 'cli-path', join(imports, 'v2.tar.gz'), '--json', ...target]);
    expect(JSON.parse(imported.stdout)).toMatchObject({ serviceId: 'cli-path', generation: 'v2' });
    const outside = await cli(['generation', 'import-path', 'cli-path', join(imports, '..', 'v2.tar.gz'), ...target]);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toMatch(/IMPORT_PATH_FORBIDDEN, HTTP 403/);

    const key = JSON.parse((await cli(['admin-key', 'add', '--label', 'ops', '--created-by', 'cli', '--expiry', '30', '--json', ...target])).stdout);
    expect(key).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), label: 'ops', createdBy: 'cli', expiresAt: expect.any(String) });
    const listed = await cli(['admin-key', 'list', ...target]);
    expect(listed.stdout).toMatch(new RegExp(`^${key.id}  ops  .*expires `, 'm'));
    expect(listed.stdout).not.toContain(key.key);
    expect((await cli(['admin-key', 'revoke', key.id, ...target])).stdout).toBe(`revoked admin key ${key.id}\n`);
    expect((await cli(['service', 'list', '--url', node.url, '--admin-key', key.key])).stderr).toMatch(/INVALID_CREDENTIALS/);

    const cleaned = JSON.parse((await cli(['service', 'clean-unused', '--json', ...target])).stdout);
    expect(cleaned.deletedServices).toContain('cli-path'); // never mapped, so disabled
    expect(cleaned.deletedServices).not.toContain('demo');
    expect((await cli(['cache', 'clear', ...target])).stdout).toMatch(/^dropped \d+ loaded models \(\d+ bytes\) and \d+ cached generations/);
  });

  it('fails with exit code 1, one line and a hint, never a stack', async () => {
    const bad = await cli(['mapping', 'switch', 'demo', 'v9', ...target]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*v9.*\nhint: /);
    expect(bad.stderr).not.toMatch(/at .*\.(ts|js|mjs):\d+/);
    const wrongKey = await cli(['service', 'list', '--url', node.url, '--admin-key', 'nope-nope-nope-nope']);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/INVALID_CREDENTIALS/);
    const unreachable = await cli(['service', 'list', '--url', 'http://127.0.0.1:1', '--admin-key', ADMIN]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(/hint: is the node running/);
  });
});

describe('apinode-admin against a local bucket', () => {
  it('builds, validates and pushes straight into the folder, which a node then serves', async () => {
    const bucket = await mkdtemp(join(tmpdir(), 'apinode-cli-bucket-'));
    const out = join(bucket, '..', `v2-${Date.now()}.tar.gz`);
    const built = await cli(['generation', 'build', join(DEMO_GENERATIONS, 'v2'), '--out', out]);
    expect(built.code).toBe(0);
    expect((await readFile(out)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect((await cli(['service', 'create', 'local', '--bucket', bucket])).code).toBe(0);
    expect((await cli(['generation', 'push', out, '--service', 'local', '--bucket', bucket])).code).toBe(0);
    expect((await cli(['mapping', 'newest', 'local', '--bucket', bucket])).code).toBe(0);
    const key = JSON.parse((await cli(['key', 'add', 'local', '--json', '--bucket', bucket])).stdout).key;
    const node = await start({ PORT: '0', APINODE_DATA_DIR: bucket, APINODE_DEMO: 'off', APINODE_QUERY_LOG: 'off' });
    try {
      const res = await fetch(`${node.url}/public/api/v1/local/penguin-clusters/predict`, { method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: JSON.stringify({ features: { beak_length_mm: 40, beak_depth_mm: 18, flipper_length_mm: 190, body_mass_g: 3700 } }) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { result: { cluster: string } }).result.cluster).toMatch(/^cluster_\d$/);
    } finally {
      await node.close();
    }
  });

  it('imports an archive already in the bucket, under imports/', async () => {
    const bucket = await mkdtemp(join(tmpdir(), 'apinode-cli-bucket-'));
    await mkdir(join(bucket, 'imports'));
    await writeFile(join(bucket, 'imports', 'v1.tar.gz'), packTarGz(await readFolder(join(DEMO_GENERATIONS, 'v1'))));
    expect((await cli(['service', 'create', 'staged', '--bucket', bucket])).code).toBe(0);
    const r = await cli(['generation', 'import-path', 'staged', 'imports/v1.tar.gz', '--json', '--bucket', bucket]);
    expect(JSON.parse(r.stdout)).toMatchObject({ serviceId: 'staged', generation: 'v1' });
  });

  it('refuses an invalid generation folder and says why', async () => {
    const res = await cli(['generation', 'validate', join(DEMO_GENERATIONS, '..', 'reference')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/manifest\.json is missing/);
  });
});

describe('apinode-admin against an S3 bucket (s3rver on loopback)', () => {
  it('pushes and maps a generation straight into the bucket', async () => {
    const s3 = await LocalS3.start();
    try {
      const env = { ...s3.env, APINODE_S3_BUCKET: '' };
      const bucket = ['--bucket', `s3://${BUCKET}/tenant-a`];
      expect((await cli(['service', 'create', 'remote', ...bucket], env)).code).toBe(0);
      expect((await cli(['generation', 'push', join(DEMO_GENERATIONS, 'v1'), '--service', 'remote', ...bucket], env)).code).toBe(0);
      expect((await cli(['mapping', 'switch', 'remote', 'v1', ...bucket], env)).code).toBe(0);
      const keys = await s3.store('tenant-a').list('services/remote/');
      expect(keys).toContain('services/remote/generations/v1/manifest.json');
      expect(keys).toContain('services/remote/service.json');
    } finally {
      await s3.destroy();
    }
  });
});
