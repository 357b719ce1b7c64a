import { z, type ZodType } from 'zod';

/** A JSON Schema (2020-12, OpenAPI 3.1's own dialect) or any other OpenAPI object. */
export type Json = { [key: string]: unknown };

/** Requests are documented as a client may send them (defaults optional), answers as the node writes them. */
export type Io = 'input' | 'output';

// A refinement or transform has no JSON Schema: it is documented as the schema it refines.
const OPTIONS = { target: 'draft-2020-12', unrepresentable: 'any' } as const;

const strip = ({ $schema: _s, $id: _i, ...schema }: Json): Json => schema;

/** One schema, inline, by zod's own converter. */
export function jsonSchema(schema: ZodType, io: Io): Json {
  return strip(z.toJSONSchema(schema, { ...OPTIONS, io }) as Json);
}

/**
 * A document's components.schemas: zod schemas registered under a name, each a $ref wherever an
 * operation or another named schema uses it. A schema registered twice keeps its first name.
 */
export class SchemaComponents {
  private readonly registries = { input: z.registry<{ id: string }>(), output: z.registry<{ id: string }>() };
  private readonly names = new Set<string>();

  ref(name: string, schema: ZodType, io: Io): Json {
    const registry = this.registries[io];
    const id = registry.get(schema)?.id ?? name;
    if (!registry.has(schema)) {
      if (this.names.has(id)) throw new Error(`two schemas are named "${id}" in one OpenAPI document`);
      registry.add(schema, { id });
      this.names.add(id);
    }
    return { $ref: `#/components/schemas/${id}` };
  }

  toJSON(): Record<string, Json> {
    const out: Record<string, Json> = {};
    for (const io of ['input', 'output'] as const) {
      const { schemas } = z.toJSONSchema(this.registries[io], { ...OPTIONS, io, uri: (id) => `#/components/schemas/${id}` });
      for (const [id, schema] of Object.entries(schemas)) out[id] = strip(schema as Json);
    }
    return out;
  }
}
