import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';

const DEMO = fileURLToPath(new URL('../../examples/demo/generations/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/real-models/', import.meta.url));

type Ort = typeof ortWeb | typeof ortNode;

/** Per-inference time of the same model in onnxruntime-web (WASM) and onnxruntime-node (native). */
export async function compareRuntimes(): Promise<string[]> {
  ortWeb.env.wasm.numThreads = 1;
  const lines = ['| model, batch | onnxruntime-web µs/run | onnxruntime-node µs/run | web / node |', '|---|---|---|---|'];
  const cases: [string, string, number][] = [
    ['xgboost wine classifier (fixture)', `${FIXTURES}onnxmltools_xgboost_classifier_wine.onnx`, 13],
    ['flight-delayed v1 linear (demo)', `${DEMO}v1/models/flight-delayed.onnx`, 0],
  ];
  for (const [label, path, width] of cases) {
    const bytes = await readFile(path);
    for (const batch of [1, 1000]) {
      const web = await time(ortWeb, bytes, batch, width);
      const native = await time(ortNode, bytes, batch, width);
      if (web === null || native === null) continue;
      lines.push(`| ${label}, ${batch} | ${web.toFixed(1)} | ${native.toFixed(1)} | ${(web / native).toFixed(2)}x |`);
    }
  }
  return lines;
}

/** Mean microseconds per run of a float-matrix model (width from the model when 0). */
async function time(ort: Ort, bytes: Uint8Array, batch: number, width: number): Promise<number | null> {
  const session = await (ort.InferenceSession as typeof ortWeb.InferenceSession).create(bytes, {});
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor || session.inputNames.length !== 1) return null;
  const w = width || Number(meta.shape[1]);
  const data = Float32Array.from({ length: batch * w }, (_, i) => ((i * 7919) % 101) / 10);
  const feeds = { [session.inputNames[0] as string]: new (ort.Tensor as typeof ortWeb.Tensor)('float32', data, [batch, w]) };
  const runs = batch === 1 ? 3000 : 200;
  for (let i = 0; i < 50; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await session.run(feeds);
  const us = ((performance.now() - t0) * 1000) / runs;
  await session.release();
  return us;
}
