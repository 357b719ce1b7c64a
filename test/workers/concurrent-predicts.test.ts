import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRecords } from '../support/demo-records.js';
import { buildWorker, startWorkerd, type Workerd } from './workerd.js';

const KEY = 'workers-concurrency-key';
const penguin = demoRecords(1)['penguin-species']![0]!;
const BURSTS = 6;

let w: Workerd;
let url: string;
const stderr: string[] = [];
beforeAll(async () => {
  // TTL 1 s: service.json is revalidated against R2 many times while requests pile up behind it.
  w = await startWorkerd(await buildWorker(), { vars: { APINODE_CONFIG_TTL_S: '1', APINODE_QUERY_LOG: 'off' }, demoKey: KEY, http: true, onStderr: (l) => stderr.push(l) });
  url = (await w.mf.ready).href.replace(/\/$/, '');
}, 120_000);
afterAll(() => w?.close());

/** One burst of autocannon, in its own process (as fast as the bench drives workerd): its non-2xx answers and errors. */
async function burst(): Promise<{ total: number; failed: number }> {
  const args = ['-c', '16', '-d', '2', '-m', 'POST', '-H', `Authorization=Bearer ${KEY}`, '-b', JSON.stringify({ features: penguin, dispatch: { forcedGeneration: 'v1' } }), '-j', `${url}/public/api/v1/demo/penguin-species/predict`];
  const { stdout } = await promisify(execFile)(join('node_modules', '.bin', 'autocannon'), args, { maxBuffer: 1 << 24 });
  const r = JSON.parse(stdout) as { requests: { total: number }; non2xx: number; errors: number };
  return { total: r.requests.total, failed: r.non2xx + r.errors };
}

describe('the Worker under concurrent load (workerd, HTTP)', () => {
  // A request that awaited another request's read of service.json could resume in that
  // request's context and fail to read its own body: 500 "Cannot perform I/O on behalf of a
  // different request" (ServiceRegistryOptions.requestBoundIo). It showed from the second or
  // third burst on, once earlier bursts' connections had been cut mid-request.
  it('answers every predict of repeated 16-connection bursts with 200', async () => {
    const failed: number[] = [];
    for (let i = 0; i < BURSTS; i++) {
      const r = await burst();
      expect(r.total).toBeGreaterThan(0);
      failed.push(r.failed);
    }
    expect(stderr.filter((l) => l.includes('different request')).map((l) => l.slice(0, 300))).toEqual([]);
    expect(failed).toEqual(new Array<number>(BURSTS).fill(0));
  }, 90_000);
});
