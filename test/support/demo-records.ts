import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real records from the public data the demo was trained on, shaped as clients send them. */
const DATA = fileURLToPath(new URL('../../node_modules/vega-datasets/data/', import.meta.url));
const data = (name: string) => JSON.parse(readFileSync(DATA + name, 'utf8')) as Record<string, unknown>[];

/** Every k-th row, so the sample spans the whole file (and its missing values). */
const spread = <T>(rows: T[], n: number) => rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / n)) === 0).slice(0, n);

export function demoRecords(n = 40): Record<string, Record<string, unknown>[]> {
  return {
    'penguin-species': spread(data('penguins.json'), n).map((r) => ({
      island: r.Island,
      beak_length_mm: r['Beak Length (mm)'],
      beak_depth_mm: r['Beak Depth (mm)'],
      flipper_length_mm: r['Flipper Length (mm)'],
      body_mass_g: r['Body Mass (g)'],
      sex: r.Sex === '.' ? null : r.Sex,
    })),
    'flight-delayed': spread(data('flights-20k.json'), n).map((r) => ({
      origin: r.origin,
      destination: r.destination,
      distance: r.distance,
      hour: Number(String(r.date).slice(11, 13)),
    })),
    'car-mpg': spread(data('cars.json'), n).map((r) => ({
      cylinders: r.Cylinders,
      displacement: r.Displacement,
      horsepower: r.Horsepower,
      weight_lbs: r.Weight_in_lbs,
      acceleration: r.Acceleration,
      origin: r.Origin,
    })),
  };
}
