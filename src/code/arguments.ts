import type { FunctionEndpointSpec } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import { parseParameters, type Parameter } from './signature.js';

/** The manifest's parameters (optional where the signature gives a default), else the signature's. */
export function resolveParameters(spec: FunctionEndpointSpec, source: string | undefined): Parameter[] {
  const parsed = source ? parseParameters(source) : null;
  if (spec.parameters) {
    const optional = new Set(parsed?.filter((p) => p.optional).map((p) => p.name));
    return spec.parameters.map((name) => ({ name, optional: optional.has(name) }));
  }
  if (!parsed) throw new ApiError(500, 'CODE_ERROR', `The parameters of "${spec.function}" cannot be read from its signature: declare them in the manifest (parameters)`);
  return parsed;
}

/** Named arguments in parameter order; an unknown or a missing required one is a 400 naming it. */
export function bindArguments(fn: string, params: readonly Parameter[], args: Record<string, unknown>): unknown[] {
  const names = new Set(params.map((p) => p.name));
  const takes = params.length ? `${fn} takes ${params.map((p) => (p.optional ? `${p.name}?` : p.name)).join(', ')}` : `${fn} takes no arguments`;
  for (const k of Object.keys(args)) if (!names.has(k)) throw ApiError.badRequest('UNKNOWN_ARGUMENT', `Unknown argument "${k}": ${takes}`);
  const missing = params.find((p) => !p.optional && !(p.name in args));
  if (missing) throw ApiError.badRequest('MISSING_ARGUMENT', `Missing argument "${missing.name}": ${takes}`);
  // An absent optional stays undefined, so the function's own default applies.
  return params.map((p) => args[p.name]);
}

/** GET query values: JSON numbers, booleans, null, objects and arrays are decoded; anything else stays a string. */
export function decodeQueryValue(v: string): unknown {
  if (!/^(-?\d|true$|false$|null$|[[{"])/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
