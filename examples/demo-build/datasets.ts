/**
 * Loads the three vega-datasets files and turns them into records with the endpoint
 * feature names (what a client of the demo service would send) plus the target.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type RawRecord = Record<string, string | number | null>;

export interface Dataset {
  records: RawRecord[];
  /** class label (classification) or number (regression), one per record */
  target: (string | number)[];
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  // the package exports only its JS entry (build/index.js); the data folder sits next to build/
  return join(dirname(require.resolve('vega-datasets')), '..', 'data');
}

function load(file: string): Record<string, unknown>[] {
  return JSON.parse(readFileSync(join(dataDir(), file), 'utf8')) as Record<string, unknown>[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' && v !== '.' ? v : null);

export const PENGUIN_CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

/** penguins.json: all 344 rows are kept, missing measurements stay null, Sex "." becomes null. */
export function penguins(): Dataset {
  const rows = load('penguins.json');
  return {
    records: rows.map((r) => ({
      island: str(r['Island']),
      beak_length_mm: num(r['Beak Length (mm)']),
      beak_depth_mm: num(r['Beak Depth (mm)']),
      flipper_length_mm: num(r['Flipper Length (mm)']),
      body_mass_g: num(r['Body Mass (g)']),
      sex: str(r['Sex']),
    })),
    target: rows.map((r) => String(r['Species'])),
  };
}

export const FLIGHT_CLASSES = ['on_time', 'delayed'];

/** flights-20k.json: delayed = delay > 15 minutes; hour = departure hour parsed from "YYYY/MM/DD HH:MM". */
export function flights(): Dataset {
  const rows = load('flights-20k.json');
  return {
    records: rows.map((r) => {
      const m = /\s(\d{1,2}):\d{2}$/.exec(String(r['date']));
      return {
        origin: str(r['origin']),
        destination: str(r['destination']),
        distance: num(r['distance']),
        hour: m ? Number(m[1]) : null,
      };
    }),
    target: rows.map((r) => ((num(r['delay']) ?? 0) > 15 ? 'delayed' : 'on_time')),
  };
}

/** cars.json: rows without Miles_per_Gallon are dropped; Horsepower may be null. */
export function cars(): Dataset {
  const rows = load('cars.json').filter((r) => num(r['Miles_per_Gallon']) !== null);
  return {
    records: rows.map((r) => ({
      cylinders: num(r['Cylinders']),
      displacement: num(r['Displacement']),
      horsepower: num(r['Horsepower']),
      weight_lbs: num(r['Weight_in_lbs']),
      acceleration: num(r['Acceleration']),
      origin: str(r['Origin']),
    })),
    target: rows.map((r) => num(r['Miles_per_Gallon'])!),
  };
}
