import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type NodeServer } from '../../src/runtime/node.js';
import type { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { ADMIN, seedShop } from '../support/rollout-lab.js';
import { tempStore } from '../support/stores.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/apinode-admin.mjs', import.meta.url));

// The bin runs the built JavaScript: build @apinode/node and the CLI from the current sources first.
beforeAll(() => {
  for (const pkg of ['node', 'cli']) execFileSync(process.execPath, [fileURLToPath(new URL(`../../packages/${pkg}/build.mjs`, import.meta.url)), '--no-types'], { stdio: 'pipe' });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '', APINODE_CLI_AUDIT: 'off' }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('apinode-admin rollout against a running node', () => {
  let node: NodeServer;
  let target: string[];
  let store: FsObjectStore;
  beforeAll(async () => {
    const t = await tempStore();
    store = t.store;
    await seedShop(store);
    // Windows written at most every second (not every minute) so that a check sees the calls just made.
    node = await start({ PORT: '0', APINODE_DATA_DIR: t.dir, APINODE_DEMO: 'off', APINODE_QUERY_LOG: 'off', APINODE_ADMIN_KEY: ADMIN, APINODE_CONFIG_TTL_S: '0', APINODE_METRIC_WINDOWS_EVERY_S: '1' });
    target = ['--url', node.url, '--admin-key', ADMIN];
  });
  afterAll(() => node?.close());

  const call = async (x: number) => {
    const res = await fetch(`${node.url}/public/api/v1/shop/double/run`, { method: 'POST', body: JSON.stringify({ x }) });
    await res.arrayBuffer();
    return { status: res.status, generation: res.headers.get('X-Apinode-Generation') };
  };

  it('starts a rollout, shows it, rolls a failing generation back on a check, and refuses bad options plainly', async () => {
    const started = await cli(['rollout', 'start', 'shop', 'g2', '--steps', '10,50,100', '--every', '10m', '--max-error-rate', '1%', '--max-p99-ms', '200', '--min-requests', '5', ...target]);
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^shop: rollout of g2 running, step 1 of 3 \(10%\)\n {2}thresholds: 5xx rate at most 1%, p99 at most 200 ms, judged from 5 requests; steps 10, 50, 100% every 600 s\n/);
    const again = await cli(['rollout', 'start', 'shop', 'g3', '--steps', '10,100', '--every', '1m', '--max-error-rate', '1%', ...target]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/A rollout of generation "g2" is running on service "shop": promote or abort it first \(ROLLOUT_IN_PROGRESS, HTTP 409\)/);

    const seen = [];
    for (let i = 0; i < 300; i++) seen.push(await call(13));
    const g2 = seen.filter((s) => s.generation === 'g2');
    expect(g2.length).toBeGreaterThan(5);
    expect(g2.every((s) => s.status === 500)).toBe(true);
    // One more call, a second later, carries the write of the windows (background, when due).
    await new Promise((r) => setTimeout(r, 1100));
    const last = await call(13);
    await new Promise((r) => setTimeout(r, 300));
    const expected = g2.length + (last.generation === 'g2' ? 1 : 0);

    const status = JSON.parse((await cli(['rollout', 'status', 'shop', '--json', ...target])).stdout);
    expect(status).toMatchObject({ percent: 10, rollout: { phase: 'running' }, current: { requests: expected, serverErrors: expected, errorRate: 1 } });
    const checked = await cli(['rollout', 'check', 'shop', ...target]);
    expect(checked.stdout).toMatch(new RegExp(`^shop: rollout of g2 rolled-back: error rate 100% \\(${expected} 5xx of ${expected} requests\\) is above the maximum 1%\\n`));
    expect(checked.stdout).toMatch(/rollback +0%/);
    expect((await call(13)).generation).toBe('g1');

    // promote and abort of a rollout that is over: 409, with the reason.
    const promote = await cli(['rollout', 'promote', 'shop', ...target]);
    expect([promote.code, promote.stderr]).toEqual([1, expect.stringContaining('is rolled-back, not running (ROLLOUT_NOT_RUNNING, HTTP 409)')]);

    for (const [args, message] of [
      [['--steps', '10,x,100'], '--steps "10,x,100" is not a list of percentages'],
      [['--steps', '10,100', '--every', 'soon'], '--every "soon" is not a duration'],
      [['--steps', '10,100', '--every', '1m', '--max-error-rate', '5'], '--max-error-rate "5" is not a rate'],
      [['--steps', '10,100', '--every', '1m'], 'missing --max-error-rate'],
    ] as const) {
      const r = await cli(['rollout', 'start', 'shop', 'g3', ...args, ...target]);
      expect([r.code, r.stderr.split('\n')[0]]).toEqual([1, `error: ${message}`]);
    }
    const refused = await cli(['rollout', 'start', 'shop', 'g3', '--steps', '10,50', '--every', '1m', '--max-error-rate', '1%', ...target]);
    expect(refused.stderr).toMatch(/steps: the last step must be 100 \(all traffic on the new generation\) \(INVALID_REQUEST, HTTP 400\)/);
  });

  it('promotes and aborts, each in one command', async () => {
    expect((await cli(['rollout', 'start', 'shop', 'g3', '--steps', '25,100', '--every', '30s', '--max-error-rate', '0.5%', ...target])).code).toBe(0);
    const promoted = await cli(['rollout', 'promote', 'shop', '--json', ...target]);
    expect(JSON.parse(promoted.stdout)).toMatchObject({ phase: 'completed', generation: 'g3' });
    expect((await call(1)).generation).toBe('g3');
    expect((await cli(['rollout', 'start', 'shop', 'g4', '--steps', '50,100', '--every', '1h', '--max-error-rate', '0.01', ...target])).code).toBe(0);
    const aborted = await cli(['rollout', 'abort', 'shop', ...target]);
    expect(aborted.stdout).toMatch(/^shop: rollout of g4 aborted: aborted by bootstrap\n/);
    expect((await call(1)).generation).toBe('g3');
  });
});
