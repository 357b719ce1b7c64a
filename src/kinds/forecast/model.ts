import type { ForecastEndpointSpec, ForecastResult } from '@apinode/protocol';
import type { ModelRuntime, ModelSession, TensorInfo, TensorValue } from '../inference/model-runtime.js';
import type { ScoreTiming } from '../inference/prediction-model.js';
import type { Lease } from '../inference/resource-cache.js';
import type { Generation, Generations } from '../services/generations.js';
import { buildSeries, isIgnored, type Windowed } from './forecast-series.js';
import { isoTime } from './forecast-time.js';

const us = (from: number) => Math.round((performance.now() - from) * 1000);

/** A forecasting endpoint's model, loaded and checked against its manifest entry. */
export class ForecastModel {
  private constructor(
    private readonly spec: ForecastEndpointSpec,
    private readonly session: ModelSession,
    private readonly fetches: readonly string[],
    readonly bytes: number,
  ) {}

  static async load(spec: ForecastEndpointSpec, onnx: Uint8Array, runtime: ModelRuntime): Promise<ForecastModel> {
    const session = await runtime.load(onnx);
    try {
      const m = spec.model;
      const input = find(session.inputs, m.input, 'input');
      if (input.type !== 'float32') throw new Error(`input "${m.input}" must be float32, not ${input.type}`);
      if (input.dims?.[1] != null && input.dims[1] !== spec.windowLength) throw new Error(`input "${m.input}" has ${input.dims[1]} columns, windowLength is ${spec.windowLength}`);
      const others = session.inputs.filter((i) => i.name !== m.input).map((i) => i.name);
      if (others.length) throw new Error(`model inputs the manifest does not feed: ${others.join(', ')}`);
      const fetches = [m.outputs.forecast, ...(m.outputs.quantiles ? [m.outputs.quantiles] : [])];
      for (const name of fetches) find(session.outputs, name, 'output');
      return new ForecastModel(spec, session, fetches, onnx.byteLength);
    } catch (e) {
      session.release();
      throw e;
    }
  }

  /** Forecasts every usable series of the request in ONE model run. */
  async forecast(items: readonly Readonly<Record<string, unknown>>[]): Promise<{ results: ForecastResult[]; timing: ScoreTiming }> {
    const { windowLength: w, horizon: h, quantiles } = this.spec;
    const relative = this.spec.model.normalization === 'LAST_VALUE';
    let t = performance.now();
    const series = buildSeries(this.spec, items);
    const usable: Windowed[] = [];
    const results: ForecastResult[] = series.map((s) => {
      if (isIgnored(s)) return { timeseriesIdentifier: s.identifier, ignored: true, ignoreReason: s.ignoreReason };
      const base = s.window[w - 1] as number;
      if (relative && !(base !== 0)) return { timeseriesIdentifier: s.identifier, ignored: true, ignoreReason: 'the last value is 0: the model reads values relative to it' };
      usable.push(s);
      return { timeseriesIdentifier: s.identifier, ignored: false };
    });
    const x = new Float32Array(usable.length * w);
    usable.forEach((s, i) => {
      const base = s.window[w - 1] as number;
      s.window.forEach((v, j) => (x[i * w + j] = relative ? v / base - 1 : v));
    });
    const timing: ScoreTiming = { preparation: us(t), prediction: 0, postProcessing: 0 };
    t = performance.now();
    const out = usable.length ? await this.session.run({ [this.spec.model.input]: { type: 'float32', data: x, dims: [usable.length, w] } }, this.fetches) : {};
    timing.prediction = us(t);
    t = performance.now();
    if (usable.length) {
      const point = numbers(out, this.spec.model.outputs.forecast, usable.length * h);
      const q = this.spec.model.outputs.quantiles ? numbers(out, this.spec.model.outputs.quantiles, usable.length * h * quantiles.length) : null;
      let k = 0;
      for (const r of results) {
        if (r.ignored) continue;
        const s = usable[k] as Windowed;
        const base = s.window[w - 1] as number;
        const value = (v: number) => (relative ? base * (1 + v) : v);
        r.forecast = Array.from({ length: h }, (_, j) => value(point[k * h + j] as number));
        r.quantiles = [...quantiles];
        r.quantilesValues = quantiles.map((_, qi) => Array.from({ length: h }, (_, j) => value((q as ArrayLike<number>)[(k * h + j) * quantiles.length + qi] as number)));
        r.time = Array.from({ length: h }, (_, j) => isoTime(s.last + 1 + j, this.spec.frequency));
        k++;
      }
    }
    timing.postProcessing = us(t);
    return { results, timing };
  }

  release(): void {
    this.session.release();
  }
}

/** The import-time check: every example request forecasts as declared. Returns the problems found. */
export async function checkForecastExamples(spec: ForecastEndpointSpec, model: ForecastModel): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, ex] of spec.examples.entries()) {
    const where = `endpoint "${spec.id}" example ${i}`;
    const { results } = await model.forecast(ex.items);
    if (results.length !== ex.expected.length) {
      problems.push(`${where}: ${results.length} series, expected ${ex.expected.length}`);
      continue;
    }
    ex.expected.forEach((want, k) => {
      const got = results[k] as ForecastResult;
      if (got.ignored !== want.ignored) problems.push(`${where} series ${k}: expected ignored=${want.ignored}, got ${got.ignored}${got.ignoreReason ? ` (${got.ignoreReason})` : ''}`);
      else if (want.forecast && !want.forecast.every((v, j) => Math.abs(v - (got.forecast?.[j] ?? NaN)) <= ex.tolerance)) {
        problems.push(`${where} series ${k}: expected forecast ${JSON.stringify(want.forecast)}, got ${JSON.stringify(got.forecast)} (tolerance ${ex.tolerance})`);
      } else if (want.time && JSON.stringify(want.time) !== JSON.stringify(got.time)) problems.push(`${where} series ${k}: expected time ${JSON.stringify(want.time)}, got ${JSON.stringify(got.time)}`);
    });
  }
  return problems;
}

/** A lease on a forecasting endpoint's model (see Generations.lease). */
export function leaseForecastModel(generations: Generations, gen: Generation, spec: ForecastEndpointSpec): Promise<Lease<ForecastModel>> {
  return generations.lease(gen, spec, undefined, (onnx, runtime) => ForecastModel.load(spec, onnx, runtime));
}

export function find(infos: readonly TensorInfo[], name: string, what: string): TensorInfo {
  const info = infos.find((i) => i.name === name);
  if (!info) throw new Error(`the model has no ${what} "${name}" (${what}s: ${infos.map((i) => i.name).join(', ')})`);
  if (!info.isTensor) throw new Error(`model ${what} "${name}" is not a tensor`);
  return info;
}

/** An output's values as numbers, checking there are as many as the shape the manifest implies. */
export function numbers(out: Readonly<Record<string, TensorValue>>, name: string, expected: number): ArrayLike<number> {
  const t = out[name] as TensorValue;
  if (t.data.length !== expected) throw new Error(`model output "${name}" has ${t.data.length} values, expected ${expected} (dims [${t.dims.join(',')}])`);
  if (Array.isArray(t.data) || t.data instanceof BigInt64Array) throw new Error(`model output "${name}" is not a float tensor`);
  return t.data;
}
