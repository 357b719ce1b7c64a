import { describe, isApiError } from '../errors.js';
import type { CheckContext, Checked, Compiled, EndpointType, GenerationFiles, SpecOf } from './kind.js';
import { at } from './kind.js';

/** A file the archive does not hold: an import problem, not a server fault. */
class MissingFile extends Error {
  constructor(readonly path: string) {
    super(`${path} is missing`);
  }
}

/** An archive's files seen as a generation, so an import loads endpoints exactly as the node will. */
export function archiveFiles(ctx: CheckContext): GenerationFiles {
  return {
    serviceId: '(import)',
    generation: '(import)',
    read: async (path) => {
      const bytes = ctx.files.get(path);
      if (!bytes) throw new MissingFile(path);
      return bytes;
    },
    // Import inspects code but runs none of it, so no endpoint calls another here.
    acquire: async (id) => {
      throw new Error(`endpoint "${id}" cannot be called during an import`);
    },
  };
}

/**
 * The import check of a kind that loads something (a model, code): load it from the archive
 * as the node would, then score the manifest's examples. Problems name the endpoint.
 */
export async function checkByLoading<T extends EndpointType, C extends Compiled>(
  load: () => Promise<C>,
  spec: SpecOf<T> & { readonly examples?: readonly unknown[] },
  examples: (compiled: C) => Promise<string[]>,
): Promise<Checked> {
  let compiled: C;
  try {
    compiled = await load();
  } catch (e) {
    if (e instanceof MissingFile) return { problems: [`${at(spec)}: ${e.message}`], examplesChecked: 0 };
    // A broken extra file (an explanation background) already says what is wrong with it.
    if (isApiError(e)) return { problems: [`${at(spec)}: ${e.message}: ${e.detailedMessage}`], examplesChecked: 0 };
    return { problems: [`${at(spec)}: the model cannot be loaded: ${describe(e).slice(0, 300)}`], examplesChecked: 0 };
  }
  try {
    return { problems: await examples(compiled), examplesChecked: spec.examples?.length ?? 0 };
  } catch (e) {
    return { problems: [`${at(spec)}: scoring the examples failed: ${describe(e).slice(0, 300)}`], examplesChecked: 0 };
  } finally {
    compiled.dispose();
  }
}

/** Numbers within the example's tolerance, anything else equal. */
export const close = (tolerance: number) => (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= tolerance : a === b);
