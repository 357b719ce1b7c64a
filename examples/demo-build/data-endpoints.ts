/**
 * The demo's data endpoints, over the `cars` table the node seeds into its embedded Postgres
 * (src/runtime/node-demo-sql.ts) from the same vega-datasets file the car-mpg model learnt from.
 */
export function dataEndpointSpecs(carMpg: Record<string, unknown>): Record<string, unknown>[] {
  const specs = ['cylinders', 'displacement', 'horsepower', 'weight_lbs', 'acceleration', 'origin'];
  return [
    {
      id: 'cars-by-origin',
      type: 'SQL_QUERY',
      description: 'Cars from one origin with at least minMpg miles per gallon, best first',
      parameters: [
        { name: 'origin', type: 'text' },
        { name: 'minMpg', type: 'float8', default: 0 },
      ],
      statements: ['SELECT name, mpg, cylinders, horsepower, year, origin FROM cars WHERE origin = :origin AND mpg >= :minMpg ORDER BY mpg DESC, name'],
      maxRows: 500,
      timeoutMs: 5000,
    },
    {
      id: 'car-specs',
      type: 'DATASETS_LOOKUP',
      description: "A car's specifications by its name (the most recent model year when a name repeats)",
      table: 'cars',
      keys: [{ column: 'name', from: 'Name', type: 'text' }],
      columns: [{ column: 'name', as: 'Name' }, ...specs.map((column) => ({ column })), { column: 'mpg' }, { column: 'year' }],
      policies: { missingKey: 'IGNORE', noMatch: 'IGNORE', multipleMatches: 'KEEP_FIRST' },
      orderBy: 'year DESC',
    },
    {
      ...carMpg,
      id: 'car-mpg-by-name',
      description: 'car-mpg, with the features looked up from the car name (enrichment)',
      examples: [],
      explanations: undefined,
      enrich: [{ table: 'cars', keys: [{ column: 'name', type: 'text' }], columns: specs.map((column) => ({ column })), orderBy: 'year DESC' }],
    },
  ];
}
