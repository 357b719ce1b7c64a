import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReference, referenceScore } from '../../examples/reference-scorer.js';
import { fnv1a32 } from '../../src/services/dispatch.js';
import { demoRecords } from '../support/demo-records.js';
import { DEMO_KEY, type Target } from './suite.js';
import { sendRefused } from './target.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Features = Record<string, unknown>;

const auth = { Authorization: `Basic ${btoa(`${DEMO_KEY}:`)}` };
const ENDPOINTS = ['penguin-species', 'flight-delayed', 'car-mpg'] as const;
const records = demoRecords(40);

/** JSON tensors, one per feature: strings as BYTES, numbers as FP64; every other input nested as [N, 1]. */
function jsonInputs(rows: readonly Features[]): Json[] {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return names.map((name, k) => {
    const values = rows.map((r) => r[name] ?? null);
    const datatype = values.some((v) => typeof v === 'string') ? 'BYTES' : 'FP64';
    return k % 2 === 0 ? { name, datatype, shape: [rows.length], data: values } : { name, datatype, shape: [rows.length, 1], data: values.map((v) => [v]) };
  });
}

// Triton's binary tensor format, written here by hand (not with the node's encoder): little-endian,
// BYTES elements as a 4-byte length and the UTF-8 bytes.
const utf8 = new TextEncoder();
function fixed(size: number, values: readonly unknown[], write: (view: DataView, at: number, v: unknown) => void): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => write(view, i * size, v));
  return out;
}
const ENCODE: Record<string, (values: readonly unknown[]) => Uint8Array<ArrayBuffer>> = {
  FP64: (vs) => fixed(8, vs, (d, at, v) => d.setFloat64(at, v == null ? NaN : Number(v), true)),
  FP32: (vs) => fixed(4, vs, (d, at, v) => d.setFloat32(at, v == null ? NaN : Number(v), true)),
  INT32: (vs) => fixed(4, vs, (d, at, v) => d.setInt32(at, Number(v), true)),
  INT64: (vs) => fixed(8, vs, (d, at, v) => d.setBigInt64(at, BigInt(Number(v)), true)),
  BYTES: (vs) => {
    const parts = vs.map((v) => utf8.encode(v == null ? '' : String(v)));
    const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.byteLength, true);
      out.set(p, at + 4);
      at += 4 + p.byteLength;
    }
    return out;
  },
};

/** A binary infer body: the JSON header, then each input's bytes in input order. */
function binaryBody(rows: readonly Features[], datatypes: Record<string, string>, extra: Json = {}): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const tensors = Object.entries(datatypes).map(([name, datatype]) => ({ name, datatype, bytes: ENCODE[datatype]!(rows.map((r) => r[name])) }));
  const header = utf8.encode(JSON.stringify({ ...extra, inputs: tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: [rows.length], parameters: { binary_data_size: t.bytes.byteLength } })) }));
  const body = new Uint8Array(header.byteLength + tensors.reduce((n, t) => n + t.bytes.byteLength, 0));
  body.set(header);
  let at = header.byteLength;
  for (const t of tensors) {
    body.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  return { body, headerLength: header.byteLength };
}

/** The outputs of an answer, JSON or binary, read by hand: name -> flat elements. */
async function outputsOf(res: Response): Promise<{ header: Json; data: Record<string, unknown[]> }> {
  expect(res.status).toBe(200);
  const all = new Uint8Array(await res.arrayBuffer());
  const declared = res.headers.get('inference-header-content-length');
  const headerLength = declared === null ? all.byteLength : Number(declared);
  const header = JSON.parse(new TextDecoder().decode(all.subarray(0, headerLength))) as Json;
  const data: Record<string, unknown[]> = {};
  let at = headerLength;
  for (const o of header.outputs as Json[]) {
    const size = o.parameters?.binary_data_size as number | undefined;
    if (size === undefined) {
      data[o.name] = o.data;
      continue;
    }
    const view = new DataView(all.buffer, all.byteOffset + at, size);
    const values: unknown[] = [];
    if (o.datatype === 'BYTES') {
      for (let p = 0; p < size; p += 4 + view.getUint32(p, true)) values.push(new TextDecoder().decode(all.subarray(at + p + 4, at + p + 4 + view.getUint32(p, true))));
    } else {
      const width = o.datatype === 'FP64' ? 8 : 4;
      for (let p = 0; p < size; p += width) values.push(o.datatype === 'FP64' ? view.getFloat64(p, true) : view.getInt32(p, true));
    }
    data[o.name] = values;
    at += size;
  }
  expect(at).toBe(all.byteLength);
  return { header, data };
}

/** The answer scores every row as the trained model (examples/reference-scorer.ts) does. */
function expectReference(gen: string, endpoint: string, rows: readonly Features[], data: Record<string, unknown[]>, classes?: readonly string[]): void {
  const ref = loadReference(gen, endpoint);
  rows.forEach((features, i) => {
    const want = referenceScore(ref, features);
    const got = data.prediction![i];
    if (typeof want.prediction === 'number') expect(Math.abs((got as number) - want.prediction)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want.prediction)));
    else expect(got).toBe(want.prediction);
    classes?.forEach((cls, k) => expect(Math.abs((data.probabilities![i * classes.length + k] as number) - want.probas![cls]!)).toBeLessThan(1e-4));
  });
}

export function oipConformanceSuite(runtime: string, start: () => Promise<Target>): void {
  describe(`Open Inference Protocol conformance on ${runtime}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await start();
    });
    afterAll(async () => t?.close());

    const get = (path: string, headers: Record<string, string> = auth) => t.fetch(`/oip/demo/v2${path}`, { headers });
    const infer = (model: string, body: unknown, headers: Record<string, string> = auth) =>
      t.fetch(`/oip/demo/v2/models/${model}/infer`, { method: 'POST', headers, body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body) });
    const expectError = async (res: Response, status: number, pattern?: RegExp) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as Json;
      expect(body).toEqual({ error: expect.any(String) });
      expect(body.error).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
      if (pattern) expect(body.error).toMatch(pattern);
      return body.error as string;
    };
    const metadata = async (model: string) => (await (await get(`/models/${model}`)).json()) as Json;

    it('answers server metadata with the binary extension, liveness and readiness', async () => {
      for (const path of ['', '/']) expect(await (await get(path)).json()).toEqual({ name: 'apinode', version: expect.any(String), extensions: expect.arrayContaining(['binary_tensor_data']) });
      expect(await (await get('/health/live', {})).json()).toEqual({ live: true });
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true });
    });

    it('describes a model: the generations holding it, platform, inputs and outputs with -1 for the batch', async () => {
      const penguins = await metadata('penguin-species');
      expect(penguins).toMatchObject({ name: 'penguin-species', versions: ['v1', 'v2'], platform: 'onnxruntime_onnx' });
      expect(penguins.inputs).toContainEqual({ name: 'island', datatype: 'BYTES', shape: [-1] });
      expect(penguins.inputs).toContainEqual({ name: 'body_mass_g', datatype: 'FP64', shape: [-1] });
      expect(penguins.outputs).toEqual([
        { name: 'prediction', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP64', shape: [-1, 3], parameters: { classes: ['Adelie', 'Chinstrap', 'Gentoo'] } },
        { name: 'proba_percentile', datatype: 'INT32', shape: [-1] },
      ]);
      expect((await metadata('car-mpg')).outputs).toEqual([{ name: 'prediction', datatype: 'FP64', shape: [-1] }]);
      expect(await metadata('penguin-clusters')).toMatchObject({ versions: ['v2'], outputs: [{ name: 'cluster', datatype: 'BYTES', shape: [-1] }] });
      expect(await metadata('penguin-species-by-island')).toMatchObject({ platform: 'apinode_custom', inputs: [] });
      const v2 = await get('/models/flight-delayed/versions/v2');
      expect(v2.headers.get('x-apinode-generation')).toBe('v2');
      expect(((await v2.json()) as Json).versions).toEqual(['v1', 'v2']);
    });

    it('answers model readiness, for the mapping or one generation', async () => {
      expect(await (await get('/models/car-mpg/ready')).json()).toEqual({ name: 'car-mpg', ready: true });
      expect(await (await get('/models/penguin-clusters/versions/v2/ready')).json()).toEqual({ name: 'penguin-clusters', ready: true });
      await expectError(await get('/models/penguin-clusters/versions/v1/ready'), 404, /penguin-clusters/);
    });

    for (const gen of ['v1', 'v2']) {
      for (const endpoint of ENDPOINTS) {
        it(`infers ${endpoint} on ${gen} from JSON tensors as the trained model computes it, in ONE answer`, async () => {
          const rows = records[endpoint]!;
          const res = await t.fetch(`/oip/demo/v2/models/${endpoint}/versions/${gen}/infer`, { method: 'POST', headers: auth, body: JSON.stringify({ id: `${endpoint}-${gen}`, inputs: jsonInputs(rows) }) });
          expect(res.status).toBe(200);
          expect(res.headers.get('x-apinode-generation')).toBe(gen);
          const { header, data } = await outputsOf(res);
          expect(header).toMatchObject({ model_name: endpoint, model_version: gen, id: `${endpoint}-${gen}` });
          const probabilities = (header.outputs as Json[]).find((o) => o.name === 'probabilities');
          const classes = (await metadata(endpoint)).outputs.find((o: Json) => o.name === 'probabilities')?.parameters.classes as string[] | undefined;
          if (classes) expect(probabilities!.shape).toEqual([rows.length, classes.length]);
          expect((header.outputs as Json[])[0]!.shape).toEqual([rows.length]);
          expectReference(gen, endpoint, rows, data, classes);
        });
      }
    }

    it("infers from binary tensors (Triton's extension: FP64, FP32, INT32, INT64, BYTES) and answers binary outputs", async () => {
      const flights = records['flight-delayed']!;
      const types = { origin: 'BYTES', destination: 'BYTES', distance: 'INT64', hour: 'INT32' };
      const { body, headerLength } = binaryBody(flights, types, { parameters: { binary_data_output: true } });
      const headers = { ...auth, 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(headerLength) };
      const res = await t.fetch('/oip/demo/v2/models/flight-delayed/versions/v2/infer', { method: 'POST', headers, body });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/octet-stream/);
      const { header, data } = await outputsOf(res);
      expect((header.outputs as Json[]).every((o) => o.data === undefined && o.parameters.binary_data_size > 0)).toBe(true);
      expectReference('v2', 'flight-delayed', flights, data, ['on_time', 'delayed']);

      // FP32 values are what the model sees: the reference scores them rounded to float32 too. Missing: NaN and "".
      const penguins = records['penguin-species']!;
      const penguinTypes = { island: 'BYTES', sex: 'BYTES', beak_length_mm: 'FP64', beak_depth_mm: 'FP32', flipper_length_mm: 'FP64', body_mass_g: 'FP32' };
      const outputs = [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'prediction' }];
      const binary = binaryBody(penguins, penguinTypes, { outputs });
      const mixed = await t.fetch('/oip/demo/v2/models/penguin-species/versions/v1/infer', { method: 'POST', headers: { ...auth, 'Inference-Header-Content-Length': String(binary.headerLength) }, body: binary.body });
      expect(mixed.status).toBe(200);
      const answer = await outputsOf(mixed);
      expect((answer.header.outputs as Json[]).map((o) => [o.name, o.data === undefined])).toEqual([['probabilities', true], ['prediction', false]]);
      const rounded = penguins.map((p) => ({ ...p, beak_depth_mm: p.beak_depth_mm == null ? null : Math.fround(p.beak_depth_mm as number), body_mass_g: p.body_mass_g == null ? null : Math.fround(p.body_mass_g as number) }));
      expectReference('v1', 'penguin-species', rounded, answer.data, ['Adelie', 'Chinstrap', 'Gentoo']);
    });

    it('assigns clusters (STD_CLUSTERING) and answers a custom prediction as its DSS predict-multi does', async () => {
      const ref = loadReference('v2', 'penguin-clusters');
      const rows = records['penguin-species']!.filter((f) => referenceScore(ref, f).cluster !== undefined && Object.values(f).every((v) => v != null));
      const clusters = await outputsOf(await infer('penguin-clusters/versions/v2', { inputs: jsonInputs(rows.map(({ island: _i, sex: _s, ...numeric }) => numeric)) }));
      expect(clusters.data.cluster).toEqual(rows.map((f) => referenceScore(ref, f).cluster));

      const penguin = { island: 'Torgersen', beak_length_mm: 48.6, beak_depth_mm: 16, flipper_length_mm: 230, body_mass_g: 5800, sex: 'MALE' };
      const rows2 = [penguin, { ...penguin, island: 'Biscoe' }, { ...penguin, island: 'Dream' }];
      const oip = await infer('penguin-species-by-island/versions/v1', { inputs: jsonInputs(rows2) });
      const { data } = await outputsOf(oip);
      const dss = (await (await t.fetch('/public/api/v1/demo/penguin-species-by-island/predict-multi', { method: 'POST', headers: auth, body: JSON.stringify({ items: rows2.map((features) => ({ features })), dispatch: { forcedGeneration: 'v1' } }) })).json()) as Json;
      expect(data.prediction).toEqual(dss.results.map((r: Json) => r.prediction));
      expect(data.probabilities).toEqual(dss.results.flatMap((r: Json) => ['Adelie', 'Chinstrap', 'Gentoo'].map((c) => r.probas[c])));
      expect(data.prediction![0]).toBe('Adelie');
    });

    it('returns only the outputs asked for, and scores a missing input as a missing feature', async () => {
      const car = records['car-mpg']![3]!;
      const res = await infer('car-mpg/versions/v1', { inputs: jsonInputs([car]), outputs: [{ name: 'prediction' }] });
      const { header } = await outputsOf(res);
      expect(header.id).toBeUndefined();
      expect((header.outputs as Json[]).map((o) => o.name)).toEqual(['prediction']);
      const rest = Object.fromEntries(Object.entries(records['penguin-species']![2]!).filter(([k]) => k !== 'island'));
      const partial = await outputsOf(await infer('penguin-species/versions/v2', { inputs: jsonInputs([rest]), outputs: [{ name: 'prediction' }] }));
      expect(partial.data.prediction).toEqual([referenceScore(loadReference('v2', 'penguin-species'), rest).prediction]);
    });

    it('keeps a dispatch_key on the generation its FNV-1a bucket names, and answers 404 for a version outside the mapping', async () => {
      const car = records['car-mpg']![2]!;
      for (const key of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
        const expected = fnv1a32(key) / 2 ** 32 < 0.7 ? 'v1' : 'v2';
        for (let i = 0; i < 2; i++) {
          const res = await infer('car-mpg', { inputs: jsonInputs([car]), parameters: { dispatch_key: key } });
          expect(((await res.json()) as Json).model_version).toBe(expected);
          expect(res.headers.get('x-apinode-generation')).toBe(expected);
        }
      }
      await expectError(await infer('car-mpg/versions/v9', { inputs: jsonInputs([car]) }), 404, /v9/);
    });

    it("applies the service's auth (Basic or Bearer key) to everything but liveness, with OIP's error shape", async () => {
      const body = { inputs: jsonInputs([records['car-mpg']![0]!]) };
      expect((await infer('car-mpg', body, { Authorization: `Bearer ${DEMO_KEY}` })).status).toBe(200);
      const missing = await infer('car-mpg', body, {});
      expect(missing.headers.get('www-authenticate')).toMatch(/Basic/);
      await expectError(missing, 401, /API key/);
      await expectError(await infer('car-mpg', body, { Authorization: `Basic ${btoa('wrong:')}` }), 401);
      for (const path of ['', '/health/ready', '/models/car-mpg', '/models/car-mpg/ready']) await expectError(await get(path, {}), 401);
    });

    it('answers 400 naming the DSS action for endpoint kinds OIP does not serve', async () => {
      const body = { inputs: [{ name: 'a', datatype: 'INT32', shape: [1], data: [1] }] };
      expect(await expectError(await infer('sum', body), 400)).toMatch(/FUNCTION.*\/public\/api\/v1\/demo\/sum\/run/);
      expect(await expectError(await infer('stock-forecast', body), 400)).toMatch(/forecast/);
      expect(await expectError(await get('/models/car-eco-tuning'), 400)).toMatch(/predict-effect/);
    });

    it('answers 400 for tensors that do not describe records', async () => {
      const car = records['car-mpg']![0]!;
      const ok = jsonInputs([car, car]);
      const cases: [unknown, RegExp][] = [
        ['{"inputs": [', /JSON/],
        [{ inputs: 'x' }, /inputs/],
        [{ inputs: [] }, /no inputs/],
        [{ inputs: [{ name: 'weight_lbs', datatype: 'FP64', shape: [2, 2], data: [1, 2, 3, 4] }] }, /shape \[2, 2\]/],
        [{ inputs: [{ name: 'weight_lbs', datatype: 'FP64', shape: [3], data: [1, 2] }] }, /2 elements/],
        [{ inputs: [{ name: 'weight_lbs', datatype: 'FP64', shape: [1], data: ['heavy'] }] }, /not a number/],
        [{ inputs: [{ name: 'weight_lbs', datatype: 'FP16', shape: [1], data: [1] }] }, /FP16/],
        [{ inputs: [...ok, { name: 'colour', datatype: 'BYTES', shape: [2], data: ['red', 'blue'] }] }, /no input "colour"/],
        [{ inputs: [ok[0], { ...ok[1], shape: [1], data: [ok[1]!.data[0]] }] }, /rows/],
        [{ inputs: ok, outputs: [{ name: 'probabilities' }] }, /no output "probabilities"/],
        [{ inputs: [{ name: 'weight_lbs', datatype: 'BYTES', shape: [1], data: ['heavy'] }] }, /Row 0.*weight_lbs/],
      ];
      for (const [body, pattern] of cases) await expectError(await infer('car-mpg', body), 400, pattern);
    });

    it('answers 400 for binary data that does not match its header', async () => {
      const rows = records['car-mpg']!.slice(0, 2);
      const { body, headerLength } = binaryBody(rows, { origin: 'BYTES', weight_lbs: 'FP64' });
      const send = (b: Uint8Array<ArrayBuffer>, length: number) => infer('car-mpg', b, { ...auth, 'Inference-Header-Content-Length': String(length) });
      await expectError(await send(body, body.byteLength + 1), 400, /Inference-Header-Content-Length/);
      await expectError(await send(body.subarray(0, body.byteLength - 3), headerLength), 400, /weight_lbs/);
      await expectError(await send(new Uint8Array([...body, 0, 0]), headerLength), 400, /2 bytes/);
      const lying = body.slice();
      new DataView(lying.buffer).setUint32(headerLength, 1_000_000, true); // the first BYTES element's length
      await expectError(await send(lying, headerLength), 400, /origin/);
    });

    it('answers 404 for an unknown service, model, generation or route', async () => {
      await expectError(await t.fetch('/oip/nope/v2/models/car-mpg', { headers: auth }), 404, /nope/);
      await expectError(await get('/models/nope'), 404, /nope/);
      await expectError(await get('/models/car-mpg/versions/v9'), 404, /v9/);
      await expectError(await get('/models/car-mpg/explain'), 404);
      await expectError(await get('/models/car-mpg/infer'), 404);
    });

    it('answers 413 for a body over the limit', async () => {
      const big = { inputs: [{ name: 'weight_lbs', datatype: 'FP64', shape: [200_000], data: Array.from({ length: 200_000 }, () => 3000.25) }] };
      await expectError(await sendRefused(() => infer('car-mpg', big)), 413);
    });
  });
}
