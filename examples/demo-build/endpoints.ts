/** The demo service's endpoints: ids, feature schemas and their training data. */
import { cars, flights, penguins, FLIGHT_CLASSES, PENGUIN_CLASSES, type Dataset } from './datasets.js';
import type { FeatureDef } from './encoding.js';

export interface EndpointData {
  id: string;
  predictionType: 'MULTICLASS' | 'BINARY_CLASSIFICATION' | 'REGRESSION';
  description: string;
  features: FeatureDef[];
  classes?: string[];
  data: Dataset;
  /** class index (classification) or value (regression), one per record */
  y: number[];
  /** one manifest example leaves this feature out */
  missingFeature: string;
  /** keep at most this many categories per categorical feature */
  maxCategories?: number;
}

const numeric = (name: string): FeatureDef => ({ name, type: 'NUMERIC' });
const category = (name: string): FeatureDef => ({ name, type: 'CATEGORY' });

function classIndex(data: Dataset, classes: string[]): number[] {
  return data.target.map((t) => {
    const k = classes.indexOf(String(t));
    if (k < 0) throw new Error(`unexpected class ${String(t)}`);
    return k;
  });
}

export function loadEndpoints(): EndpointData[] {
  const p = penguins();
  const f = flights();
  const c = cars();
  return [
    {
      id: 'penguin-species',
      predictionType: 'MULTICLASS',
      description: 'Palmer penguins species from island, sex and body measurements (vega-datasets penguins.json)',
      features: [category('island'), numeric('beak_length_mm'), numeric('beak_depth_mm'), numeric('flipper_length_mm'), numeric('body_mass_g'), category('sex')],
      classes: PENGUIN_CLASSES,
      data: p,
      y: classIndex(p, PENGUIN_CLASSES),
      missingFeature: 'sex',
    },
    {
      id: 'flight-delayed',
      predictionType: 'BINARY_CLASSIFICATION',
      description: 'Probability that a US domestic flight (2001) departs more than 15 minutes late (vega-datasets flights-20k.json)',
      features: [category('origin'), category('destination'), numeric('distance'), numeric('hour')],
      classes: FLIGHT_CLASSES,
      data: f,
      y: classIndex(f, FLIGHT_CLASSES),
      missingFeature: 'distance',
      maxCategories: 20,
    },
    {
      id: 'car-mpg',
      predictionType: 'REGRESSION',
      description: 'Fuel consumption (miles per gallon) of 1970-1982 cars (vega-datasets cars.json)',
      features: [numeric('cylinders'), numeric('displacement'), numeric('horsepower'), numeric('weight_lbs'), numeric('acceleration'), category('origin')],
      data: c,
      y: c.target.map(Number),
      missingFeature: 'horsepower',
    },
  ];
}
