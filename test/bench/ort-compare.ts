import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { EndpointSpec, type PredictionEndpointSpec } from '@apinode/protocol';
import { compileDecoder } from '../../src/inference/decode.js';
import { compileEncoder } from '../../src/inference/encoding.js';
import { ortModelRuntime } from '../../src/inference/ort-runtime.js';
import { exposeZipMapInputs } from '../../src/inference/onnx-rewrite.js';
import { median } from './servers.js';
import { batch } from './throughput.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/generations/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/real-models/', import.meta.url));
const MODELS: [string, string][] = [
  ['v1', 'penguin-species'], ['v1', 'flight-delayed'], ['v1', 'car-mpg'],
  ['v2', 'penguin-species'], ['v2', 'flight-delayed'], ['v2', 'car-mpg'], ['v2', 'penguin-clusters'],
];

type Ort = typeof ortWeb | typeof ortNode;
type Feeds = Record<string, { type: string; data: unknown; dims: readonly number[] }>;

export interface OrtComparison {
  lines: string[];
  /** Worst web/node ratio at batch 1 and at batch 1,000, over the demo models. */
  worst1: number;
  worst1000: number;
}

/**
 * Per-run time of every demo model in onnxruntime-web (WASM, 1 thread, what the node runs) and
 * onnxruntime-node (native CPU), on the same feeds: real demo records encoded by the node's own
 * encoder, the outputs the node fetches. Only session.run is timed.
 */
export async function compareRuntimes(): Promise<OrtComparison> {
  ortWeb.env.wasm.numThreads = 1;
  const lines = ['| model, batch | onnxruntime-web CPU µs/run | onnxruntime-node CPU µs/run (1 thread) | web / node |', '|---|---|---|---|'];
  let worst1 = 0;
  let worst1000 = 0;
  // Two passes: the first only warms (V8 tiers WebAssembly and JavaScript up on background
  // threads, whose CPU time process.cpuUsage counts), the second is measured.
  for (const pass of ['warm', 'measured']) for (const [gen, id] of MODELS) {
    const manifest = JSON.parse(await readFile(`${DEMO}${gen}/manifest.json`, 'utf8')) as { endpoints: unknown[] };
    const spec = (manifest.endpoints.map((e) => EndpointSpec.parse(e)) as PredictionEndpointSpec[]).find((e) => e.id === id)!;
    const rewritten = exposeZipMapInputs(await readFile(`${DEMO}${gen}/${spec.model.file}`));
    // Inputs and outputs as the node reads them (through its own adapter), to compile the encoder and decoder.
    const probe = await ortModelRuntime(ortWeb).load(rewritten.bytes);
    const encoder = compileEncoder(spec, probe.inputs);
    const fetches = [...compileDecoder(spec, probe.outputs, new Map(rewritten.zipMaps.map((z) => [z.zipMapOutput, z.probabilities]))).fetches];
    probe.release();
    const records = batch(id === 'penguin-clusters' ? 'penguin-species' : id);
    for (const n of [1, 1000]) {
      const { feeds } = encoder.encode(records.slice(0, n));
      const [web, native] = await pair(rewritten.bytes, feeds as Feeds, fetches, n);
      if (pass === 'warm') continue;
      const ratio = web / native;
      if (n === 1) worst1 = Math.max(worst1, ratio);
      else worst1000 = Math.max(worst1000, ratio);
      lines.push(`| ${id} ${gen} (${spec.model.file.split('/').pop()}), ${n} | ${web.toFixed(1)} | ${native.toFixed(1)} | ${ratio.toFixed(2)}x |`);
    }
  }
  // A real converter-exported tree ensemble (float matrix input) for reference.
  const xgb = await readFile(`${FIXTURES}onnxmltools_xgboost_classifier_wine.onnx`);
  for (const n of [1, 1000]) {
    const data = Float32Array.from({ length: n * 13 }, (_, i) => ((i * 7919) % 101) / 10);
    const feeds: Feeds = { input: { type: 'float32', data, dims: [n, 13] } };
    const [web, native] = await pair(xgb, feeds, null, n);
    lines.push(`| xgboost wine classifier (test fixture), ${n} | ${web.toFixed(1)} | ${native.toFixed(1)} | ${(web / native).toFixed(2)}x |`);
  }
  return { lines, worst1, worst1000 };
}

/**
 * Median over 5 rounds of the mean CPU microseconds (this process's user + system time) per
 * session.run, web then native within each round, after 30 warm-up runs each.
 */
async function pair(bytes: Uint8Array, feeds: Feeds, fetches: string[] | null, n: number): Promise<[number, number]> {
  const [web, native] = await Promise.all([session(ortWeb, bytes, feeds, fetches), session(ortNode, bytes, feeds, fetches)]);
  const runs = n === 1 ? 400 : 20;
  const w: number[] = [];
  const x: number[] = [];
  for (let i = 0; i < 30; i++) {
    await web.run();
    await native.run();
  }
  for (let round = 0; round < 5; round++) {
    w.push(await web.time(runs));
    x.push(await native.time(runs));
  }
  await web.release();
  await native.release();
  return [median(w), median(x)];
}

async function session(ort: Ort, bytes: Uint8Array, feeds: Feeds, fetches: string[] | null) {
  // One thread each: the node runs ORT's WASM on one thread, and CPU time (not wall time) is
  // what is compared, so other processes on a shared machine do not skew it.
  const s = await (ort.InferenceSession as typeof ortWeb.InferenceSession).create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  const Tensor = ort.Tensor as typeof ortWeb.Tensor;
  const input = (name: string, i: number) => feeds[name] ?? feeds[Object.keys(feeds)[i]!]!;
  // Tensors are made per run, as the node makes them per request.
  const make = () => Object.fromEntries(s.inputNames.map((name, i) => [name, new Tensor(input(name, i).type as 'float32', input(name, i).data as Float32Array, input(name, i).dims)]));
  const out = fetches ?? s.outputNames.filter((o) => !/zipmap/i.test(o));
  const run = () => s.run(make(), out);
  return {
    run,
    time: async (runs: number) => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < runs; i++) await run();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / runs;
    },
    release: () => s.release(),
  };
}
