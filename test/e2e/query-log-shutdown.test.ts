import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demoRecords } from '../support/demo-records.js';
import { tempStore } from '../support/stores.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KEY = 'query-log-shutdown-key';
const cars = demoRecords(10)['car-mpg']!;

describe('the Node entry at shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stores the buffered query log on ${signal}, then exits 0`, async () => {
      const { dir: data } = await tempStore();
      const { store: logs, dir: logDir } = await tempStore();
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/runtime/node.ts'], {
        cwd: ROOT,
        // An hour's age and a large size: nothing would be stored before shutdown.
        env: { ...process.env, PORT: '0', APINODE_DATA_DIR: data, APINODE_DEMO_KEY: KEY, APINODE_QUERY_LOG: 'store', APINODE_QUERY_LOG_DIR: logDir, APINODE_QUERY_LOG_FLUSH_S: '3600' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = once(child, 'exit');
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (!m) return;
          clearInterval(timer);
          resolve(m[1]!);
        }, 50);
        void exited.then(() => reject(new Error(`node exited: ${out}`)));
      });

      const items = cars.map((features) => ({ features }));
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/public/api/v1/demo/car-mpg/predict-multi`, { method: 'POST', headers: { Authorization: `Bearer ${KEY}` }, body: JSON.stringify({ items }) });
        expect(res.status).toBe(200);
      }
      expect(await logs.list('querylog/')).toEqual([]);

      child.kill(signal);
      const [code] = await exited;
      expect(code).toBe(0);
      const keys = await logs.list('querylog/service=demo/endpoint=car-mpg/');
      expect(keys.length).toBeGreaterThan(0);
      const lines = [];
      for (const key of keys) lines.push(...gunzipSync((await logs.get(key))!.body).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { features: unknown }));
      expect(lines.map((l) => l.features)).toEqual([...cars, ...cars, ...cars]);
    }, 60_000);
  }
});
