/**
 * stock-forecast: one model across the five series of vega-datasets' stocks.csv (monthly
 * closing prices 2000-2010). In: the last 12 monthly prices of a series relative to the last
 * one (x / last - 1). Out: the relative change 1, 2 and 3 months ahead (ridge regression per
 * step) and the 10/50/90% quantiles, from the per-step quantiles of the training residuals.
 * Exported as MatMul + Add (+ Unsqueeze + Add for the quantiles).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { referenceForecast, type ForecastReference } from '../reference-scorer.js';
import { f32 } from './encoding.js';
import { trainRidge } from './linear.js';
import { buildModel, ElemType } from './onnx-builder.js';

export const STOCK_WINDOW = 12;
export const STOCK_HORIZON = 3;
const QUANTILES = [0.1, 0.5, 0.9];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface StockRow {
  symbol: string;
  date: string;
  price: number;
}

/** stocks.csv as clients send it: symbol, date ("Jan 1 2000"), price; in file order (by symbol, then date). */
export function stocks(): StockRow[] {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'stocks.csv');
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [symbol, date, price] = line.split(',');
      return { symbol: symbol!, date: date!, price: Number(price) };
    });
}

/** "Jan 1 2000" -> months since Jan 1970 (the file is regular: one row per month and symbol). */
const monthIndex = (date: string): number => {
  const [mon, , year] = date.split(' ');
  return (Number(year) - 1970) * 12 + MONTHS.indexOf(mon!);
};

export function bySymbol(rows: StockRow[]): Map<string, StockRow[]> {
  const out = new Map<string, StockRow[]>();
  for (const r of rows) out.set(r.symbol, [...(out.get(r.symbol) ?? []), r]);
  for (const [s, series] of out) {
    series.forEach((r, i) => {
      if (i > 0 && monthIndex(r.date) !== monthIndex(series[i - 1]!.date) + 1) throw new Error(`${s}: ${r.date} does not follow ${series[i - 1]!.date}`);
    });
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}

export interface TrainedForecast {
  spec: Record<string, unknown>;
  onnx: Uint8Array;
  ref: ForecastReference;
  metrics: string;
}

export function trainStockForecast(generation: string): TrainedForecast {
  const rows = stocks();
  const X: number[][] = [];
  const Y: number[][] = [];
  for (const series of bySymbol(rows).values()) {
    const p = series.map((r) => r.price);
    for (let t = STOCK_WINDOW - 1; t + STOCK_HORIZON < p.length; t++) {
      const last = p[t]!;
      X.push(p.slice(t - STOCK_WINDOW + 1, t + 1).map((v) => v / last - 1));
      Y.push(Array.from({ length: STOCK_HORIZON }, (_, h) => p[t + 1 + h]! / last - 1));
    }
  }
  const models = Array.from({ length: STOCK_HORIZON }, (_, h) => trainRidge(X, Y.map((y) => y[h]!), 1));
  const weights = Array.from({ length: STOCK_WINDOW }, (_, j) => models.map((m) => m.coefficients[0]![j]!));
  const bias = models.map((m) => m.intercepts[0]!);
  const predict = (x: number[], h: number) => x.reduce((s, xj, j) => s + xj * weights[j]![h]!, bias[h]!);
  const offsets = Array.from({ length: STOCK_HORIZON }, (_, h) => {
    const residuals = X.map((x, i) => Y[i]![h]! - predict(x, h)).sort((a, b) => a - b);
    return QUANTILES.map((q) => f32(quantile(residuals, q)));
  });
  const rmse = (h: number, f: (x: number[]) => number) => Math.sqrt(X.reduce((s, x, i) => s + (Y[i]![h]! - f(x)) ** 2, 0) / X.length);
  const metrics = Array.from({ length: STOCK_HORIZON }, (_, h) => `+${h + 1} month: RMSE ${rmse(h, (x) => predict(x, h)).toFixed(4)} (unchanged price ${rmse(h, () => 0).toFixed(4)})`).join(', ');
  const ref: ForecastReference = { endpoint: 'stock-forecast', generation, windowLength: STOCK_WINDOW, horizon: STOCK_HORIZON, quantiles: QUANTILES, weights, bias, offsets };
  const spec: Record<string, unknown> = {
    id: 'stock-forecast',
    type: 'STD_FORECAST',
    description: 'Monthly stock prices 3 months ahead, with 10/50/90% quantiles (vega-datasets stocks.csv); one linear model across symbols',
    timeVariable: 'date',
    frequency: { unit: 'MONTH', step: 1 },
    timeseriesIdentifiers: ['symbol'],
    target: 'price',
    windowLength: STOCK_WINDOW,
    horizon: STOCK_HORIZON,
    quantiles: QUANTILES,
    resampling: { duplicates: 'IGNORE_SERIES', missing: 'INTERPOLATE', maxFilledPeriods: 2 },
    model: { file: 'models/stock-forecast.onnx', input: 'X', normalization: 'LAST_VALUE', outputs: { forecast: 'forecast', quantiles: 'quantiles' } },
    examples: [forecastExample(ref, rows)],
  };
  return { spec, onnx: forecastOnnx(ref), ref, metrics: `${generation}/stock-forecast: n=${X.length} windows; ${metrics}` };
}

/** The last 12 months of MSFT and IBM, and 5 months of GOOG (too little history: ignored). */
function forecastExample(ref: ForecastReference, rows: StockRow[]): Record<string, unknown> {
  const series = bySymbol(rows);
  const tail = (s: string, n: number) => series.get(s)!.slice(-n);
  const items = [...tail('MSFT', STOCK_WINDOW), ...tail('IBM', STOCK_WINDOW), ...tail('GOOG', 5)];
  const expected = ['MSFT', 'IBM'].map((s) => ({
    ignored: false,
    forecast: referenceForecast(ref, tail(s, STOCK_WINDOW).map((r) => r.price)).forecast.map((v) => Number(v.toFixed(4))),
    time: ['2010-04-01T00:00:00.000Z', '2010-05-01T00:00:00.000Z', '2010-06-01T00:00:00.000Z'],
  }));
  return { items, expected: [...expected, { ignored: true }], tolerance: 1e-3 };
}

function forecastOnnx(ref: ForecastReference): Uint8Array {
  const { windowLength: w, horizon: h, quantiles } = ref;
  return buildModel({
    name: ref.endpoint,
    nodes: [
      { opType: 'MatMul', inputs: ['X', 'W'], outputs: ['XW'] },
      { opType: 'Add', inputs: ['XW', 'B'], outputs: ['forecast'] },
      { opType: 'Unsqueeze', inputs: ['forecast', 'axis2'], outputs: ['forecast3'] },
      { opType: 'Add', inputs: ['forecast3', 'offsets'], outputs: ['quantiles'] },
    ],
    initializers: [
      { name: 'W', dims: [w, h], type: 'FLOAT', values: ref.weights.flat() },
      { name: 'B', dims: [h], type: 'FLOAT', values: ref.bias },
      { name: 'axis2', dims: [1], type: 'INT64', values: [2] },
      { name: 'offsets', dims: [h, quantiles.length], type: 'FLOAT', values: ref.offsets.flat() },
    ],
    inputs: [{ name: 'X', elemType: ElemType.FLOAT, dims: ['N', w] }],
    outputs: [
      { name: 'forecast', elemType: ElemType.FLOAT, dims: ['N', h] },
      { name: 'quantiles', elemType: ElemType.FLOAT, dims: ['N', h, quantiles.length] },
    ],
  });
}
