import { beforeAll, describe, expect, it } from 'vitest';
import { layout } from '../../src/storage/layout.js';
import { demoRecords } from '../support/demo-records.js';
import { buildWorker, startWorkerd, type WorkerBundle, type Workerd } from './workerd.js';

/*
 * Cold loads shared between requests, on real workerd. Concurrent first requests for an
 * endpoint share one load of its generation's manifest (Generations' SingleFlight) and one load
 * of the endpoint (ResourceCache): both run in the context of the request that started them,
 * reading R2 there. A request resumed by such a load must still read its own body, run its own
 * code, score with its own model and call back into the Worker (the self-client), or workerd
 * answers 500 "Cannot perform I/O on behalf of a different request". Every round below is a
 * new service on a new generation (nothing of it is cached: service.json, manifest, models,
 * code), hit by many requests at once on every endpoint kind that runs without a database,
 * some of them cut by their client mid-request (the loader included).
 */

const records = demoRecords(4);
const penguin = records['penguin-species']![0]!;
const car = records['car-mpg']![0]!;
const MIB = 2 ** 20;

/** A monthly series of 12 points, the window the demo's stock-forecast needs. */
const series = (symbol: string, base: number) =>
  Array.from({ length: 12 }, (_, i) => ({ symbol, date: new Date(Date.UTC(2009, 3 + i, 1)).toISOString().slice(0, 10), price: base + i }));

/** Endpoint, action, body (or query): one kind of request each; every one of them loads something cold. */
const CALLS: readonly { endpoint: string; action: string; body?: unknown; query?: string; check: (json: Record<string, unknown>) => boolean }[] = [
  { endpoint: 'penguin-species', action: 'predict', body: { features: penguin }, check: (j) => typeof (j.result as { prediction?: unknown })?.prediction === 'string' },
  { endpoint: 'penguin-species', action: 'predict-multi', body: { items: records['penguin-species']!.map((features) => ({ features })) }, check: (j) => (j.results as unknown[])?.length === 4 },
  { endpoint: 'car-mpg', action: 'predict', body: { features: car }, check: (j) => typeof (j.result as { prediction?: unknown })?.prediction === 'number' },
  { endpoint: 'sum', action: 'run', body: { a: 30, b: 12 }, check: (j) => j.response === 42 },
  { endpoint: 'sum', action: 'run', query: 'a=1&b=2', check: (j) => j.response === 3 },
  // A FUNCTION calling the Worker again (self-client): its nested predict loads penguin-species too.
  { endpoint: 'penguin-dispatcher', action: 'run', body: { penguin }, check: (j) => typeof (j.response as { species?: unknown })?.species === 'string' },
  { endpoint: 'penguin-species-by-island', action: 'predict', body: { features: penguin }, check: (j) => typeof (j.result as { prediction?: unknown })?.prediction === 'string' },
  { endpoint: 'stock-forecast', action: 'forecast', body: { items: [...series('MSFT', 20), ...series('IBM', 100)] }, check: (j) => Array.isArray(j.results) && (j.results as unknown[]).length > 0 },
  { endpoint: 'car-eco-tuning', action: 'predict-effect', body: { features: car }, check: (j) => typeof (j.result as { prediction?: unknown })?.prediction === 'number' },
];

/**
 * Pads an ONNX model with an unused initializer of `bytes` bytes (appended to its graph, field 7
 * of the ModelProto; field 5 of the GraphProto). The cold load then reads (and hands
 * onnxruntime) megabytes instead of hundreds of bytes, so the requests that join it wait long
 * enough to overlap with each other and with the load's I/O.
 */
function padModel(model: Uint8Array, bytes: number): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Uint8Array.from(out);
  };
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const len = (field: number, payload: Uint8Array) => cat(varint((field << 3) | 2), varint(payload.length), payload);
  const floats = bytes >> 2;
  // TensorProto: dims (1) = floats, data_type (2) = FLOAT (1), name (8), raw_data (9).
  const tensor = cat(varint(1 << 3), varint(floats), varint(2 << 3), varint(1), len(8, new TextEncoder().encode('apinode_padding')), len(9, new Uint8Array(floats * 4)));
  // The ModelProto's top-level fields, to find the graph's.
  let at = 0;
  const readVarint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = model[at++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return n;
    }
  };
  while (at < model.length) {
    const fieldStart = at;
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) readVarint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const n = readVarint();
      if (tag >> 3 === 7) return cat(model.subarray(0, fieldStart), len(7, cat(model.subarray(at, at + n), len(5, tensor))), model.subarray(at + n));
      at += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  throw new Error('no graph in the model');
}

interface Answer {
  readonly call: string;
  readonly status: number | 'aborted' | string;
  readonly ok: boolean;
  readonly body: string;
  /** ms from the round's start to the answer's end. */
  readonly ms: number;
}

let bundle: WorkerBundle;
beforeAll(async () => {
  bundle = await buildWorker();
}, 180_000);

/** A workerd with the demo seeded (the source of every round's generation) and its HTTP address. */
async function start(stderr: string[], vars: Record<string, string> = {}): Promise<{ w: Workerd; url: string }> {
  const w = await startWorkerd(bundle, { vars: { APINODE_QUERY_LOG: 'off', ...vars }, demoKey: 'cold-loads-key', http: true, onStderr: (l) => stderr.push(l) });
  return { w, url: (await w.mf.ready).href.replace(/\/$/, '') };
}

/**
 * A new PUBLIC service `serviceId` mapped to a new generation `gen`: a copy of the demo's v1
 * (its models padded by `padBytes`), so nothing of it is in the isolate yet.
 */
async function coldService(w: Workerd, serviceId: string, gen: string, padBytes: number): Promise<void> {
  const from = layout.generation('demo', 'v1');
  const keys = await w.store.list(from);
  for (const key of keys) {
    const path = key.slice(from.length);
    if (path === 'manifest.json') continue;
    const body = (await w.store.get(key))!.body;
    await w.store.put(layout.file(serviceId, gen, path), path.endsWith('.onnx') && padBytes > 0 ? padModel(body, padBytes) : body);
  }
  const manifest = JSON.parse(new TextDecoder().decode((await w.store.get(layout.manifest('demo', 'v1')))!.body)) as Record<string, unknown>;
  // No `files` hashes in the demo's manifest, so padded models are served as they are.
  expect(manifest.files).toBeUndefined();
  await w.store.put(layout.manifest(serviceId, gen), new TextEncoder().encode(JSON.stringify({ ...manifest, generation: gen })));
  const config = { serviceId, enabled: true, auth: { method: 'PUBLIC', keys: [] }, mapping: { mode: 'SINGLE_GENERATION', generation: gen } };
  await w.store.put(layout.service(serviceId), new TextEncoder().encode(JSON.stringify(config)));
}

/**
 * Fires `perCall` requests of every CALL at once, on the cold service; with `cut`, one request
 * of every kind (the first, likely the one whose context runs the shared load) is aborted by its
 * client after `cut` ms.
 */
async function fire(url: string, serviceId: string, perCall: number, cut?: number): Promise<Answer[]> {
  const requests: Promise<Answer>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < perCall; i++) {
    for (const c of CALLS) {
      const name = `${c.endpoint}/${c.action}${c.query ? ' GET' : ''}`;
      const abort = cut !== undefined && i === 0 ? AbortSignal.timeout(cut) : undefined;
      const signal = abort;
      const target = `${url}/public/api/v1/${serviceId}/${c.endpoint}/${c.action}${c.query ? `?${c.query}` : ''}`;
      const init: RequestInit = c.body === undefined ? { signal } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body), signal };
      requests.push(
        fetch(target, init).then(
          async (res) => {
            const body = await res.text().catch((e: unknown) => `(body cut: ${String(e)})`);
            let ok = res.status === 200;
            try {
              ok &&= c.check(JSON.parse(body) as Record<string, unknown>);
            } catch {
              ok = false;
            }
            return { call: name, status: res.status, ok, body: body.slice(0, 400), ms: performance.now() - t0 };
          },
          (e: unknown) => ({ call: name, status: abort?.aborted ? 'aborted' : `fetch failed: ${String(e)}`, ok: false, body: '', ms: performance.now() - t0 }),
        ),
      );
    }
  }
  return Promise.all(requests);
}

/** The answers that were not a correct 200, except those their own client aborted. */
const failures = (answers: readonly Answer[]) => answers.filter((a) => !a.ok && a.status !== 'aborted').map((a) => `${a.call}: ${a.status} ${a.body}`);
const crossRequest = (lines: readonly string[]) => lines.filter((l) => /different request|I\/O on behalf/i.test(l)).map((l) => l.slice(0, 300));

describe('cold loads shared by concurrent first requests (workerd, HTTP)', () => {
  it('answers every concurrent first request of every endpoint kind, round after round of new generations, in two isolates', async () => {
    const problems: string[] = [];
    const stderr: string[] = [];
    let rounds = 0;
    for (const isolate of [1, 2]) {
      const { w, url } = await start(stderr);
      try {
        for (let round = 0; round < 6; round++) {
          // Rounds alternate: plain, and with one request of every kind cut by its client (after 1 to 15 ms).
          const cut = round % 2 === 1 ? 1 + ((round * 7) % 15) : undefined;
          const serviceId = `cold-${isolate}-${round}`;
          await coldService(w, serviceId, `g${round}`, round < 2 ? 0 : 4 * MIB);
          const answers = await fire(url, serviceId, 6, cut);
          rounds++;
          for (const f of failures(answers)) problems.push(`isolate ${isolate}, round ${round}${cut ? ` (cut ${cut} ms)` : ''}: ${f}`);
          // Warm now: every kind answers once more (the load that a cut request started must not be stuck).
          for (const f of failures(await fire(url, serviceId, 1))) problems.push(`isolate ${isolate}, round ${round}, warm: ${f}`);
        }
      } finally {
        await w.close();
      }
    }
    expect(rounds).toBe(12);
    expect(crossRequest(stderr)).toEqual([]);
    expect(problems).toEqual([]);
  }, 600_000);
});
