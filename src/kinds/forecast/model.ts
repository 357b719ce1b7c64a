import type { ForecastEndpointSpec, ForecastResult } from '@apinode/protocol';
import type { ModelRuntime, ModelSession } from '../../inference/model-runtime.js';
import { find, numbers } from '../../inference/outputs.js';
import type { ScoreTiming } from '../../inference/prediction-model.js';
import { buildSeries, isIgnored, type SeriesIdentifier, type Windowed } from './series.js';
import { dssTime, parseTime } from './time.js';

const us = (from: number) => Math.round((performance.now() - from) * 1000);

/** One series' answer to `forecast`: its results, one per horizon step in time order, or one ignored result. */
export interface SeriesForecast {
  readonly identifier: SeriesIdentifier;
  readonly results: ForecastResult[];
}

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

  /**
   * Forecasts every usable series of the request in ONE model run. One answer per series, in
   * the order the series first appear in items: its horizon steps in time order, or a single
   * ignored result.
   */
  async forecast(items: readonly Readonly<Record<string, unknown>>[]): Promise<{ results: SeriesForecast[]; timing: ScoreTiming }> {
    const { windowLength: w, horizon: h, quantiles, frequency } = this.spec;
    const relative = this.spec.model.normalization === 'LAST_VALUE';
    let t = performance.now();
    const answers: SeriesForecast[] = [];
    const usable: { s: Windowed; base: number; row: Float32Array; results: ForecastResult[] }[] = [];
    for (const s of buildSeries(this.spec, items)) {
      const results: ForecastResult[] = [];
      answers.push({ identifier: s.identifier, results });
      const ignore = (ignoreReason: string) => results.push({ timeseriesIdentifier: s.identifier, ignored: true, ignoreReason });
      if (isIgnored(s)) ignore(s.ignoreReason);
      else if (relative && s.window[w - 1] === 0) ignore('the last value is 0: the model reads values relative to it');
      else {
        const base = s.window[w - 1] as number;
        const row = Float32Array.from(s.window, (v) => (relative ? v / base - 1 : v));
        // Finite in JSON, infinite in float32 (1e308): the model would answer NaN.
        if (row.some((v) => !Number.isFinite(v))) ignore(`a value of the series is out of the range of the model's float32 input${relative ? ' (relative to the last value)' : ''}`);
        else usable.push({ s, base, row, results });
      }
    }
    const x = new Float32Array(usable.length * w);
    usable.forEach(({ row }, i) => x.set(row, i * w));
    const timing: ScoreTiming = { preparation: us(t), prediction: 0, postProcessing: 0 };
    t = performance.now();
    const out = usable.length ? await this.session.run({ [this.spec.model.input]: { type: 'float32', data: x, dims: [usable.length, w] } }, this.fetches) : {};
    timing.prediction = us(t);
    t = performance.now();
    if (usable.length) {
      const point = numbers(out, this.spec.model.outputs.forecast, usable.length * h);
      const q = this.spec.model.outputs.quantiles ? numbers(out, this.spec.model.outputs.quantiles, usable.length * h * quantiles.length) : [];
      usable.forEach(({ s, base, results }, k) => {
        const value = (v: number) => (relative ? base * (1 + v) : v);
        const steps: ForecastResult[] = [];
        for (let j = 0; j < h; j++) {
          const step = k * h + j;
          const forecast = value(point[step] as number);
          const quantilesValues = quantiles.map((_, qi) => value(q[step * quantiles.length + qi] as number));
          // JSON has no NaN: the series is ignored rather than answered null.
          if (!Number.isFinite(forecast) || !quantilesValues.every(Number.isFinite)) {
            results.push({ timeseriesIdentifier: s.identifier, ignored: true, ignoreReason: "the model's forecast for this series is not a finite number" });
            return;
          }
          steps.push({ timeseriesIdentifier: s.identifier, time: dssTime(s.last + 1 + j, frequency), forecast, quantiles: [...quantiles], quantilesValues, ignored: false });
        }
        results.push(...steps);
      });
    }
    timing.postProcessing = us(t);
    return { results: answers, timing };
  }

  release(): void {
    this.session.release();
  }
}

/** The import-time check: every example request forecasts as declared (per series, see ForecastExample). Returns the problems found. */
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
      const got = (results[k] as SeriesForecast).results;
      const skipped = got.find((r) => r.ignored);
      const steps = got.filter((r) => !r.ignored);
      const forecast = steps.map((r) => r.forecast);
      const time = steps.map((r) => r.time);
      if (!!skipped !== want.ignored) problems.push(`${where} series ${k}: expected ignored=${want.ignored}, got ${!!skipped}${skipped ? ` (${skipped.ignoreReason})` : ''}`);
      else if (want.forecast && !want.forecast.every((v, j) => Math.abs(v - (forecast[j] ?? NaN)) <= ex.tolerance)) {
        problems.push(`${where} series ${k}: expected forecast ${JSON.stringify(want.forecast)}, got ${JSON.stringify(forecast)} (tolerance ${ex.tolerance})`);
      } else if (want.time && !(want.time.length === time.length && want.time.every((v, j) => parseTime(v) === parseTime(time[j])))) {
        problems.push(`${where} series ${k}: expected time ${JSON.stringify(want.time)}, got ${JSON.stringify(time)}`);
      }
    });
  }
  return problems;
}
