import type { CustomPredictionEndpointSpec, FunctionEndpointSpec } from '@apinode/protocol';
import { describe, isApiError } from '../errors.js';
import { resolveParameters } from './arguments.js';
import { sha256Hex } from './hash.js';
import { capProblems } from './limits.js';
import { CodeSandbox } from './sandbox.js';
import { parseParameters } from './signature.js';

let fallback: CodeSandbox | null = null;
/**
 * The sandbox of callers without one (the CLI on Node): QuickJS loads its own .wasm file. It
 * knows no node's caps, so it allows what the manifest schema does; the node checks its own.
 */
export const defaultSandbox = (): CodeSandbox => (fallback ??= new CodeSandbox(undefined, { caps: { cpuTimeMs: 30_000, wallTimeMs: 300_000, memoryMiB: 512, selfCalls: 100, answerBytes: 8 * 1024 * 1024 } }));

/**
 * A code endpoint at import: its file is there with the recorded SHA-256, the module evaluates
 * in the sandbox (within its limits), exports the declared function, and the parameters the
 * manifest declares are the function's own. Returns the problems found.
 */
export async function codeProblems(spec: FunctionEndpointSpec | CustomPredictionEndpointSpec, files: ReadonlyMap<string, Uint8Array>, sandbox: CodeSandbox): Promise<string[]> {
  const at = `endpoint "${spec.id}"`;
  const bytes = files.get(spec.code.file);
  if (!bytes) return [`${at}: ${spec.code.file} is missing`];
  const actual = await sha256Hex(bytes);
  if (actual !== spec.code.sha256) return [`${at}: ${spec.code.file} has sha256 ${actual}, the manifest records ${spec.code.sha256}`];
  if (spec.type === 'CUSTOM_PREDICTION' && spec.predictionType !== 'REGRESSION' && !spec.classes) return [`${at}: classification endpoints need "classes"`];
  const over = capProblems(spec.code.limits, sandbox.caps);
  if (over.length) return over.map((p) => `${at}: ${p}`);
  let shape;
  try {
    shape = await sandbox.inspect(new TextDecoder().decode(bytes), spec.code.file, spec.code.limits);
  } catch (e) {
    // For the generation's author (admin API): a sandbox failure's cause too, its first line only.
    const cause = isApiError(e) && e.cause !== undefined ? `: ${firstLine(describe(e.cause))}` : '';
    const why = isApiError(e) ? `${e.message}${e.detailedMessage !== e.message ? ` (${e.detailedMessage.split('\n')[1]?.trim() ?? ''})` : ''}${cause}` : firstLine(describe(e));
    return [`${at}: ${spec.code.file} does not evaluate: ${why.slice(0, 300)}`];
  }
  if (shape.exports[spec.function] !== 'function') {
    const exported = Object.keys(shape.exports);
    return [`${at}: ${spec.code.file} does not export a function "${spec.function}" (it exports ${exported.length ? exported.join(', ') : 'nothing'})`];
  }
  if (spec.type === 'CUSTOM_PREDICTION') return [];
  const source = shape.sources[spec.function];
  try {
    resolveParameters(spec, source);
  } catch (e) {
    return [`${at}: ${describe(e).replace(/^ApiError: /, '')}`];
  }
  const parsed = source ? parseParameters(source) : null;
  if (spec.parameters && parsed && parsed.map((p) => p.name).join(',') !== spec.parameters.join(',')) {
    return [`${at}: parameters ${spec.parameters.join(', ')} do not match ${spec.function}(${parsed.map((p) => p.name).join(', ')})`];
  }
  return [];
}

/** A message without the stack or source excerpt some engines append on further lines. */
const firstLine = (text: string): string => text.split('\n', 1)[0]!.slice(0, 300);
