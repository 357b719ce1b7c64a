import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceConfig } from '@apinode/protocol';
import { layout } from '../../src/storage/layout.js';
import { demoRecords } from '../support/demo-records.js';
import { buildWorker, startWorkerd, type WorkerBundle, type Workerd } from './workerd.js';

const KEY = 'workers-test-key';
const auth = { Authorization: `Bearer ${KEY}` };
const records = demoRecords(3);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const predict = (w: Workerd, endpoint: string, body: unknown) =>
  w.fetch(`/public/api/v1/demo/${endpoint}/predict${'items' in (body as object) ? '-multi' : ''}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const got = probe();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await buildWorker();
});

describe('the Worker in workerd, on R2', () => {
  let w: Workerd;
  const stdout: string[] = [];
  beforeAll(async () => {
    // TTL 0: every request revalidates service.json against R2 with a conditional read.
    w = await startWorkerd(bundle, { vars: { APINODE_CONFIG_TTL_S: '0', APINODE_QUERY_LOG: 'stdout' }, demoKey: KEY, onStdout: (l) => stdout.push(l) });
  });
  afterAll(() => w?.close());

  it('revalidates service.json by etag: unchanged keeps serving, a new mapping applies on the next request', async () => {
    const features = records['car-mpg']![0]!;
    for (let i = 0; i < 3; i++) expect((await predict(w, 'car-mpg', { features })).status).toBe(200);
    const config = ServiceConfig.parse(JSON.parse(new TextDecoder().decode((await w.store.get(layout.service('demo')))!.body)));
    await w.store.put(layout.service('demo'), new TextEncoder().encode(JSON.stringify({ ...config, mapping: { mode: 'SINGLE_GENERATION', generation: 'v2' } })));
    for (let i = 0; i < 5; i++) expect((await predict(w, 'car-mpg', { features })).headers.get('x-apinode-generation')).toBe('v2');
    await w.store.put(layout.service('demo'), new TextEncoder().encode(JSON.stringify({ ...config, enabled: false })));
    expect((await predict(w, 'car-mpg', { features })).status).not.toBe(200);
    await w.store.put(layout.service('demo'), new TextEncoder().encode(JSON.stringify(config)));
  });

  it('keeps loaded sessions in the isolate: a warm generation serves after its files leave R2', async () => {
    const features = records['flight-delayed']![0]!;
    const first = await predict(w, 'flight-delayed', { features, dispatch: { forcedGeneration: 'v1' } });
    expect(first.status).toBe(200);
    // Gone from the bucket: only the isolate's cached manifest and session can answer now.
    await w.store.delete(layout.file('demo', 'v1', 'models/flight-delayed.onnx'));
    const again = await predict(w, 'flight-delayed', { features, dispatch: { forcedGeneration: 'v1' } });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Json).result).toEqual(((await first.json()) as Json).result);
    // Control: a model the isolate never loaded is read from R2, so its deletion shows.
    await w.store.delete(layout.file('demo', 'v2', 'models/flight-delayed.onnx'));
    const cold = await predict(w, 'flight-delayed', { features, dispatch: { forcedGeneration: 'v2' } });
    expect(cold.status).toBe(500);
    expect(((await cold.json()) as Json).errorType).toBe('GENERATION_BROKEN');
  });

  it('writes the query log in waitUntil: one JSON line per scored record, with the caller label, never the key', async () => {
    const items = records['penguin-species']!.map((features) => ({ features }));
    const res = await predict(w, 'penguin-species', { items });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    const lines = await until('the query log lines', () => {
      const mine = stdout.filter((l) => l.includes(requestId));
      return mine.length === items.length ? mine : undefined;
    });
    for (const line of lines) {
      const entry = JSON.parse(line) as Json;
      expect(entry).toMatchObject({ requestId, serviceId: 'demo', endpointId: 'penguin-species', caller: 'demo' });
      expect(line).not.toContain(KEY);
    }
  });
});

/** A valid WASM module that imports a function ORT does not provide: instantiating it fails. */
// prettier-ignore
const UNLINKABLE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // types: () -> ()
  0x02, 0x0b, 0x01, 0x02, 0x7a, 0x7a, 0x04, 0x6e, 0x6f, 0x70, 0x65, 0x00, 0x00, // import "zz"."nope"
]);

describe('the Worker when onnxruntime cannot start', () => {
  let w: Workerd;
  beforeAll(async () => {
    w = await startWorkerd(bundle, { demoKey: KEY, wasm: UNLINKABLE });
  });
  afterAll(() => w?.close());

  it('answers 503 MODEL_RUNTIME_UNAVAILABLE on every try, and keeps answering what needs no model', async () => {
    const features = records['car-mpg']![0]!;
    for (let i = 0; i < 2; i++) {
      const res = await predict(w, 'car-mpg', { features });
      expect([res.status, await res.clone().text()]).toEqual([503, expect.any(String)]);
      expect(((await res.json()) as Json).errorType).toBe('MODEL_RUNTIME_UNAVAILABLE');
    }
    expect((await w.fetch('/isAlive')).status).toBe(200);
    expect((await predict(w, 'car-mpg', { features: 'not a record' })).status).toBe(400);
  });
});
