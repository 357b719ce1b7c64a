import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';

const CARS = fileURLToPath(new URL('../../node_modules/vega-datasets/data/cars.json', import.meta.url));

/** The demo's `cars` table: the vega-datasets cars the car-mpg model learnt from, one row each. */
export async function seedDemoDatabase(db: PGlite): Promise<number> {
  const rows = JSON.parse(await readFile(CARS, 'utf8')) as Record<string, string | number | null>[];
  await db.exec(`CREATE TABLE IF NOT EXISTS cars (
    name text NOT NULL, mpg float8, cylinders int8, displacement float8, horsepower float8,
    weight_lbs float8, acceleration float8, year date, origin text)`);
  await db.exec('TRUNCATE cars');
  const cols = ['Name', 'Miles_per_Gallon', 'Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Year', 'Origin'];
  // One statement with unnested arrays: a single round trip for the whole table.
  await db.query(
    `INSERT INTO cars SELECT * FROM unnest($1::text[], $2::float8[], $3::int8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::date[], $9::text[])`,
    cols.map((c) => rows.map((r) => r[c] ?? null)),
  );
  return rows.length;
}
