/**
 * The demo's forecasting and causal endpoints (stock-forecast, car-eco-tuning), added to a
 * generation by build-demo.ts, and self-checked here with onnxruntime-web against the
 * reference scorer on every training window / record.
 */
import * as ort from 'onnxruntime-web';
import { encodeFeatures, referenceEffect, referenceForecast } from '../reference-scorer.js';
import { trainCarEcoTuning } from './causal.js';
import type { EndpointData } from './endpoints.js';
import { bySymbol, stocks, STOCK_WINDOW, trainStockForecast } from './forecast.js';

ort.env.wasm.numThreads = 1;

/** `files` entries are written as models/<file> and reference/<generation>/<ref.endpoint>.json. */
export async function addForecastAndCausalEndpoints(
  generation: string,
  endpoints: EndpointData[],
  specs: Record<string, unknown>[],
  files: { file: string; onnx: Uint8Array; ref: { endpoint: string } }[],
): Promise<void> {
  const forecast = trainStockForecast(generation);
  const causal = trainCarEcoTuning(endpoints.find((e) => e.id === 'car-mpg')!, generation);
  for (const t of [forecast, causal]) {
    console.log(t.metrics);
    specs.push(t.spec);
    files.push({ file: (t.spec['model'] as { file: string }).file, onnx: t.onnx, ref: t.ref });
  }

  const windows = [...bySymbol(stocks()).values()].flatMap((s) => s.slice(STOCK_WINDOW - 1).map((_, t) => s.slice(t, t + STOCK_WINDOW).map((r) => r.price)));
  const x = Float32Array.from(windows.flatMap((w) => w.map((v) => v / w[w.length - 1]! - 1)));
  const out = await run(forecast.onnx, { X: new ort.Tensor('float32', x, [windows.length, STOCK_WINDOW]) });
  const h = forecast.ref.horizon;
  const q = forecast.ref.quantiles.length;
  let worst = 0;
  windows.forEach((w, i) => {
    const want = referenceForecast(forecast.ref, w);
    const last = w[w.length - 1]!;
    for (let j = 0; j < h; j++) {
      worst = Math.max(worst, Math.abs(last * (1 + out['forecast']![i * h + j]!) - want.forecast[j]!) / last);
      for (let k = 0; k < q; k++) worst = Math.max(worst, Math.abs(last * (1 + out['quantiles']![(i * h + j) * q + k]!) - want.quantilesValues[k]![j]!) / last);
    }
  });
  if (!(worst <= 1e-4)) throw new Error(`self-check ${generation}/stock-forecast: ORT deviates from the reference by ${worst}`);
  console.log(`self-check ${generation}/stock-forecast: ${windows.length} windows OK, max relative deviation ${worst.toExponential(2)}`);

  const records = endpoints.find((e) => e.id === 'car-mpg')!.data.records;
  const rows = records.map((r) => encodeFeatures(causal.ref.columns, r));
  const eff = await run(causal.onnx, { X: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]) });
  worst = 0;
  records.forEach((r, i) => {
    const want = referenceEffect(causal.ref, r);
    worst = Math.max(worst, Math.abs(eff['effect']![i]! - want.prediction), Math.abs(eff['treated']![i]! - want.outcomeTreated), Math.abs(eff['control']![i]! - want.outcomeControl));
  });
  if (!(worst <= 1e-3)) throw new Error(`self-check ${generation}/car-eco-tuning: ORT deviates from the reference by ${worst}`);
  console.log(`self-check ${generation}/car-eco-tuning: ${records.length} records OK, max deviation ${worst.toExponential(2)}`);
}

async function run(onnx: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}
