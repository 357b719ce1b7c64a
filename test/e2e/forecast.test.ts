import { beforeAll, describe, expect, it } from 'vitest';
import { ForecastEndpointSpec, ForecastResponse } from '@apinode/protocol';
import { bySymbol, stocks, type StockRow } from '../../examples/demo-build/forecast.js';
import { loadReferenceAs, referenceForecast, type ForecastReference } from '../../examples/reference-scorer.js';
import { ForecastModel, checkForecastExamples } from '../../src/kinds/forecast/model.js';
import type { ModelRuntime } from '../../src/inference/model-runtime.js';
import { seedDemo } from '../../src/runtime/node-demo.js';
import { ortRuntime, testApp } from '../support/node-app.js';
import { json, tempStore } from '../support/stores.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The ONNX runtime, counting model runs. */
function counting(inner: ModelRuntime) {
  const counter = { runs: 0 };
  const runtime: ModelRuntime = {
    async load(bytes) {
      const s = await inner.load(bytes);
      return { inputs: s.inputs, outputs: s.outputs, release: () => s.release(), run: (f, o) => (counter.runs++, s.run(f, o)) };
    },
  };
  return { runtime, counter };
}

const ref = loadReferenceAs<ForecastReference>('v2', 'stock-forecast');
const series = bySymbol(stocks());
const headers = { Authorization: 'Bearer forecast-test-key' };
let app: ReturnType<typeof testApp>['app'];
let counter: { runs: number };
let stockSpec: ForecastEndpointSpec;
let stockOnnx: Uint8Array;

beforeAll(async () => {
  const { store } = await tempStore();
  await seedDemo(store, 'forecast-test-key');
  // A daily copy of the same model: the time axis must follow the declared frequency.
  const manifest = JSON.parse(new TextDecoder().decode((await store.get('services/demo/generations/v2/manifest.json'))!.body));
  const stock = manifest.endpoints.find((e: Json) => e.id === 'stock-forecast');
  stockSpec = ForecastEndpointSpec.parse(stock);
  stockOnnx = (await store.get(`services/demo/generations/v2/${stock.model.file}`))!.body;
  const daily = { ...stock, id: 'daily-forecast', frequency: { unit: 'DAY' }, timeseriesIdentifiers: [], examples: [] };
  const strict = { ...stock, id: 'strict-forecast', resampling: { duplicates: 'IGNORE_SERIES', missing: 'IGNORE_SERIES' }, examples: [] };
  const averaging = { ...stock, id: 'mean-forecast', resampling: { duplicates: 'MEAN', missing: 'PREVIOUS' }, examples: [] };
  const pointOnly = { ...stock, id: 'point-forecast', quantiles: [], model: { ...stock.model, outputs: { forecast: 'forecast' } }, examples: [] };
  manifest.endpoints.push(daily, strict, averaging, pointOnly);
  await store.put('services/demo/generations/v2/manifest.json', json(manifest));
  const c = counting(ortRuntime);
  counter = c.counter;
  app = testApp(store, {}, { models: c.runtime }).app;
});

const forecast = async (endpoint: string, items: unknown[]) => {
  const res = await app.request(`/public/api/v1/demo/${endpoint}/forecast`, { method: 'POST', headers, body: JSON.stringify({ items, dispatch: { forcedGeneration: 'v2' } }) });
  return { status: res.status, body: (await res.json()) as Json };
};
const tail = (symbol: string, n: number): StockRow[] => series.get(symbol)!.slice(-n);
const prices = (rows: StockRow[]) => rows.map((r) => r.price);
const forecasts = (body: Json): number[] => body.results.map((r: Json) => r.forecast);
const near = (want: number[]) => want.map((v) => expect.closeTo(v, 2));
/** stocks.csv ends in March 2010 for every symbol: the next three months, as DSS writes times. */
const AFTER_MARCH_2010 = ['2010-04-01T00:00:00.000000Z', '2010-05-01T00:00:00.000000Z', '2010-06-01T00:00:00.000000Z'];

describe('forecast on a STD_FORECAST endpoint', () => {
  it('answers one result per series and horizon step, as the trained model computes them, in ONE model run', async () => {
    const symbols = [...series.keys()];
    const items = symbols.flatMap((s) => tail(s, 20));
    await forecast('stock-forecast', items.slice(0, 12)); // load the model first
    const before = counter.runs;
    const { status, body } = await forecast('stock-forecast', items);
    expect(status).toBe(200);
    expect(counter.runs - before).toBe(1);
    expect(ForecastResponse.safeParse(body).success).toBe(true);
    expect(body.apiContext).toEqual({ serviceId: 'demo', endpointId: 'stock-forecast', serviceGeneration: 'v2' });
    // Step by step (as the DSS page shows), within a step the series in the order they first appear (stocks.csv's, not alphabetical).
    expect(body.results).toHaveLength(symbols.length * 3);
    expect(body.results.map((r: Json) => [r.timeseriesIdentifier.symbol, r.time])).toEqual(AFTER_MARCH_2010.flatMap((time) => symbols.map((symbol) => [symbol, time])));
    body.results.forEach((r: Json, i: number) => {
      const [symbol, h] = [symbols[i % symbols.length]!, Math.floor(i / symbols.length)];
      const want = referenceForecast(ref, prices(tail(symbol, 12)));
      expect(Object.keys(r).sort()).toEqual(['forecast', 'ignored', 'quantiles', 'quantilesValues', 'time', 'timeseriesIdentifier']);
      expect(r).toMatchObject({ timeseriesIdentifier: { symbol }, ignored: false, quantiles: [0.1, 0.5, 0.9] });
      expect(Math.abs(r.forecast - want.forecast[h]!)).toBeLessThan(1e-4 * want.forecast[h]!);
      // quantilesValues[k] is the level quantiles[k] at this step.
      expect(r.quantilesValues).toHaveLength(3);
      r.quantilesValues.forEach((v: number, q: number) => expect(Math.abs(v - want.quantilesValues[q]![h]!)).toBeLessThan(1e-4 * v));
      expect(r.quantilesValues[0]).toBeLessThan(r.quantilesValues[1]);
      expect(r.quantilesValues[1]).toBeLessThan(r.quantilesValues[2]);
    });
  });

  it('orders interleaved series step by step, and within a step by first appearance', async () => {
    const msft = tail('MSFT', 12).reverse();
    const items = tail('IBM', 12).flatMap((r, i) => [msft[i]!, r]);
    const { body } = await forecast('stock-forecast', items);
    const order = body.results.map((r: Json) => [r.timeseriesIdentifier.symbol, r.time]);
    expect(order).toEqual(AFTER_MARCH_2010.flatMap((time) => ['MSFT', 'IBM'].map((symbol) => [symbol, time])));
    expect(forecasts({ results: body.results.filter((r: Json) => r.timeseriesIdentifier.symbol === 'IBM') })).toEqual(near(referenceForecast(ref, prices(tail('IBM', 12))).forecast));
  });

  it('answers empty quantiles when the model gives none', async () => {
    const { body } = await forecast('point-forecast', tail('MSFT', 12));
    const want = referenceForecast(ref, prices(tail('MSFT', 12))).forecast;
    expect(body.results).toEqual(want.map((v, h) => ({ timeseriesIdentifier: { symbol: 'MSFT' }, time: AFTER_MARCH_2010[h], forecast: expect.closeTo(v, 2), quantiles: [], quantilesValues: [], ignored: false })));
  });

  it('steps monthly data by calendar months', async () => {
    const { body } = await forecast('stock-forecast', tail('MSFT', 12));
    expect(body.results.map((r: Json) => r.time)).toEqual(AFTER_MARCH_2010);
    // A window ending in November crosses a year boundary; February has 28 days.
    const ibm = series.get('IBM')!;
    const nov = ibm.findIndex((r) => r.date === 'Nov 1 2008');
    const upToNov2008 = ibm.slice(nov - 11, nov + 1);
    const { body: b2 } = await forecast('stock-forecast', upToNov2008);
    expect(b2.results.map((r: Json) => r.time)).toEqual(['2008-12-01T00:00:00.000000Z', '2009-01-01T00:00:00.000000Z', '2009-02-01T00:00:00.000000Z']);
  });

  it('steps daily data by days, across a month end', async () => {
    const values = prices(tail('AAPL', 12));
    const items = values.map((price, i) => ({ date: `2024-02-${18 + i}`, price }));
    // 2024-02-18 .. 2024-02-29 (leap year): the next three days are March 1-3.
    const { status, body } = await forecast('daily-forecast', items);
    expect(status).toBe(200);
    expect(body.results).toHaveLength(3);
    body.results.forEach((r: Json) => expect(r.timeseriesIdentifier).toEqual({}));
    expect(body.results.map((r: Json) => r.time)).toEqual(['2024-03-01T00:00:00.000000Z', '2024-03-02T00:00:00.000000Z', '2024-03-03T00:00:00.000000Z']);
    const want = referenceForecast(ref, values);
    expect(forecasts(body)).toEqual(near(want.forecast));
  });

  it('sorts unsorted input and accepts ISO dates, answering as for sorted input', async () => {
    const rows = tail('AMZN', 14);
    const { body: sorted } = await forecast('stock-forecast', rows);
    const shuffled = [...rows].reverse().map((r, i) => (i % 2 ? r : { ...r, date: isoOf(r.date) }));
    const { body } = await forecast('stock-forecast', shuffled);
    expect(body.results).toEqual(sorted.results);
  });

  it('ignores a series with too little history, or an unparsable date, without failing the others', async () => {
    const items = [...tail('GOOG', 5), ...tail('MSFT', 12), ...tail('IBM', 12).map((r, i) => (i === 3 ? { ...r, date: 'someday' } : r))];
    const { status, body } = await forecast('stock-forecast', items);
    expect(status).toBe(200);
    // One result for an ignored series, in its place among the first step's.
    expect(body.results).toHaveLength(5);
    expect(body.results[0]).toEqual({ timeseriesIdentifier: { symbol: 'GOOG' }, ignored: true, ignoreReason: 'needs 12 periods of history, has 5' });
    expect(body.results[2]).toEqual({ timeseriesIdentifier: { symbol: 'IBM' }, ignored: true, ignoreReason: expect.stringContaining('"someday" in "date" is not a date') });
    expect([1, 3, 4].map((i) => [body.results[i].timeseriesIdentifier.symbol, body.results[i].time])).toEqual(AFTER_MARCH_2010.map((time) => ['MSFT', time]));
  });

  it('fills a missing target or a gap per the resampling rules, or ignores the series with the reason', async () => {
    const rows = tail('MSFT', 12);
    const withGap = rows.filter((_, i) => i !== 5);
    const withNull = rows.map((r, i) => (i === 5 ? { ...r, price: null } : r));
    const interpolated = [...prices(rows)];
    interpolated[5] = (interpolated[4]! + interpolated[6]!) / 2;
    const want = referenceForecast(ref, interpolated).forecast;
    for (const items of [withGap, withNull]) {
      const { body } = await forecast('stock-forecast', items);
      expect(forecasts(body)).toEqual(near(want));
    }
    const strict = await forecast('strict-forecast', withNull);
    expect(strict.body.results).toEqual([{ timeseriesIdentifier: { symbol: 'MSFT' }, ignored: true, ignoreReason: 'the "price" of the period starting 2009-09-01T00:00:00.000Z is missing' }]);
    const previous = await forecast('mean-forecast', withGap);
    const filled = [...prices(rows)];
    filled[5] = filled[4]!;
    expect(forecasts(previous.body)).toEqual(near(referenceForecast(ref, filled).forecast));
  });

  it('ignores a series with duplicate timestamps unless the endpoint averages them', async () => {
    const rows = tail('MSFT', 12);
    const dup = [...rows, { ...rows[11]!, price: rows[11]!.price + 2 }];
    const { body } = await forecast('stock-forecast', dup);
    expect(body.results).toEqual([{ timeseriesIdentifier: { symbol: 'MSFT' }, ignored: true, ignoreReason: 'several values for the period starting 2010-03-01T00:00:00.000Z' }]);
    const mean = await forecast('mean-forecast', dup);
    const averaged = [...prices(rows)];
    averaged[11] = averaged[11]! + 1;
    expect(forecasts(mean.body)).toEqual(near(referenceForecast(ref, averaged).forecast));
  });

  it('answers 400 for a body without items, and for a forecast on a prediction endpoint', async () => {
    expect((await forecast('stock-forecast', 'nope' as never)).status).toBe(400);
    const wrong = await forecast('car-mpg', tail('MSFT', 12));
    expect(wrong.status).toBe(400);
    expect(wrong.body.errorType).toBe('WRONG_ENDPOINT_TYPE');
    const res = await app.request('/public/api/v1/demo/stock-forecast/predict', { method: 'POST', headers, body: JSON.stringify({ features: {}, dispatch: { forcedGeneration: 'v2' } }) });
    expect(((await res.json()) as Json).message).toContain('call forecast');
  });
});

describe('the import-time check of forecast examples', () => {
  const check = async (edit: (expected: Json[]) => void) => {
    const spec = structuredClone(stockSpec);
    edit(spec.examples[0]!.expected);
    const model = await ForecastModel.load(spec, stockOnnx, ortRuntime);
    try {
      return await checkForecastExamples(spec, model);
    } finally {
      model.release();
    }
  };

  it('accepts the demo example, declared per series, and its times written either way', async () => {
    expect(await check(() => undefined)).toEqual([]);
    expect(await check((e) => (e[0]!.time = AFTER_MARCH_2010))).toEqual([]);
  });

  it('says which series and what differs when a forecast, a time or an ignored series does not match', async () => {
    expect(await check((e) => (e[1]!.forecast[2] += 1))).toEqual([expect.stringMatching(/^endpoint "stock-forecast" example 0 series 1: expected forecast \[.*\], got \[/)]);
    expect(await check((e) => (e[0]!.time[0] = '2010-04-02T00:00:00.000Z'))).toEqual([expect.stringContaining('series 0: expected time')]);
    expect(await check((e) => (e[0]!.time = e[0]!.time.slice(0, 2)))).toEqual([expect.stringContaining('series 0: expected time')]);
    expect(await check((e) => (e[2]!.ignored = false))).toEqual(['endpoint "stock-forecast" example 0 series 2: expected ignored=false, got true (needs 12 periods of history, has 5)']);
    expect(await check((e) => e.pop())).toEqual(['endpoint "stock-forecast" example 0: 3 series, expected 2']);
  });
});

function isoOf(date: string): string {
  const [mon, day, year] = date.split(' ');
  const m = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(mon!) + 1;
  return `${year}-${String(m).padStart(2, '0')}-${day!.padStart(2, '0')}T00:00:00Z`;
}
