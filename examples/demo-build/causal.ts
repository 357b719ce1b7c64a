/**
 * car-eco-tuning: a semi-synthetic causal data set on the real cars (vega-datasets cars.json),
 * because no npm package ships a real data set with a treatment column. A fictitious
 * "eco tuning" is applied to each car with a probability that grows with its weight
 * (confounding: heavy cars are both treated more often and less economical); its true effect
 * on fuel economy is known: +1 mpg plus 1 mpg per 1000 lbs above 2000 lbs. The observed
 * outcome is the real mpg, plus that effect for treated cars. A T-learner (one ridge
 * regression per arm, on the same standardized features as car-mpg v1) estimates the effect.
 */
import type { CausalReference } from '../reference-scorer.js';
import { referenceEffect } from '../reference-scorer.js';
import type { RawRecord } from './datasets.js';
import { encodeRows, fitColumns, width } from './encoding.js';
import type { EndpointData } from './endpoints.js';
import { trainRidge } from './linear.js';
import { buildModel, ElemType, attr } from './onnx-builder.js';
import { mulberry32 } from './rng.js';

const TRUE_EFFECT = { feature: 'weight_lbs', base: 1, perUnit: 0.001, from: 2000 };
export const trueEffect = (r: Record<string, unknown>): number => TRUE_EFFECT.base + TRUE_EFFECT.perUnit * (Number(r[TRUE_EFFECT.feature]) - TRUE_EFFECT.from);

export interface TrainedCausal {
  spec: Record<string, unknown>;
  onnx: Uint8Array;
  ref: CausalReference;
  metrics: string;
}

/** Which cars are treated: P(treated) = sigmoid((weight - 3000) / 800), drawn with a fixed seed. */
export function treatmentOf(records: RawRecord[]): boolean[] {
  const rng = mulberry32(2026);
  return records.map((r) => rng() < 1 / (1 + Math.exp(-(Number(r['weight_lbs']) - 3000) / 800)));
}

export function trainCarEcoTuning(cars: EndpointData, generation: string): TrainedCausal {
  const records = cars.data.records;
  const treated = treatmentOf(records);
  const y = records.map((r, i) => cars.y[i]! + (treated[i] ? trueEffect(r) : 0));
  const columns = fitColumns(records, cars.features, { standardize: true, maxCategories: cars.maxCategories, alphabetical: !cars.maxCategories });
  const X = encodeRows(records, columns);
  const arm = (t: boolean) => {
    const idx = records.flatMap((_, i) => (treated[i] === t ? [i] : []));
    const m = trainRidge(idx.map((i) => X[i]!), idx.map((i) => y[i]!), 1);
    return { coefficients: m.coefficients[0]!, intercept: m.intercepts[0]! };
  };
  const ref: CausalReference = { endpoint: 'car-eco-tuning', generation, columns, treated: arm(true), control: arm(false), trueEffect: TRUE_EFFECT };
  const est = records.map((r) => referenceEffect(ref, r).prediction);
  const truth = records.map(trueEffect);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const naive = mean(y.filter((_, i) => treated[i])) - mean(y.filter((_, i) => !treated[i]));
  const rmse = Math.sqrt(mean(est.map((e, i) => (e - truth[i]!) ** 2)));
  const metrics = `${generation}/car-eco-tuning: ${treated.filter(Boolean).length}/${records.length} treated; true ATE ${mean(truth).toFixed(3)}, T-learner ATE ${mean(est).toFixed(3)}, naive difference of means ${naive.toFixed(3)}; effect RMSE ${rmse.toFixed(3)} mpg`;
  const examples = [records[0]!, records[150]!, { ...records[300]!, horsepower: null }].map((r) => {
    const features = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
    const want = referenceEffect(ref, features);
    const round = (v: number) => Number(v.toFixed(6));
    return { features, expected: { prediction: round(want.prediction), outcomeTreated: round(want.outcomeTreated), outcomeControl: round(want.outcomeControl) }, tolerance: 1e-3 };
  });
  const spec: Record<string, unknown> = {
    id: 'car-eco-tuning',
    type: 'STD_CAUSAL_PREDICTION',
    predictionType: 'CAUSAL_REGRESSION',
    description: 'Effect on mpg of a (semi-synthetic) eco tuning, T-learner on the cars data; see docs/demo.md',
    features: cars.features.map((f) => ({ name: f.name, type: f.type })),
    treatment: { name: 'eco_tuning', description: 'synthetic; true effect +1 mpg plus 1 mpg per 1000 lbs above 2000 lbs' },
    model: { file: 'models/car-eco-tuning.onnx', inputs: { mode: 'MATRIX', input: 'X', columns }, outputs: { effect: 'effect', treated: 'treated', control: 'control' } },
    examples,
  };
  return { spec, onnx: tLearnerOnnx(ref, width(columns)), ref, metrics };
}

function tLearnerOnnx(ref: CausalReference, w: number): Uint8Array {
  const regressor = (arm: 'treated' | 'control') => ({
    opType: 'LinearRegressor',
    domain: 'ai.onnx.ml',
    inputs: ['X'],
    outputs: [arm],
    attrs: [attr.floats('coefficients', ref[arm].coefficients), attr.floats('intercepts', [ref[arm].intercept]), attr.i('targets', 1)],
  });
  return buildModel({
    name: ref.endpoint,
    nodes: [regressor('treated'), regressor('control'), { opType: 'Sub', inputs: ['treated', 'control'], outputs: ['effect'] }],
    inputs: [{ name: 'X', elemType: ElemType.FLOAT, dims: ['N', w] }],
    outputs: (['effect', 'treated', 'control'] as const).map((name) => ({ name, elemType: ElemType.FLOAT, dims: ['N', 1] })),
  });
}
