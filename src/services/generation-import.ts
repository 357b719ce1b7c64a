import { Manifest } from '@apinode/protocol';
import { ApiError, describe, formatIssues } from '../errors.js';
import { CodeRuntime } from '../code/code-runtime.js';
import type { CodeSandbox } from '../code/sandbox.js';
import { defaultSandbox } from '../code/validate.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import type { CheckContext, KindServices } from '../kinds/kind.js';
import { kindOf } from '../kinds/registry.js';
import { silentLogger } from '../observability/logger.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { FileSet } from './archive.js';

export interface ValidatedGeneration {
  readonly manifest: Manifest;
  readonly files: FileSet;
  readonly bytes: number;
  readonly examplesChecked: number;
}

const ALLOWED = /^(manifest\.json|(models|data|code)\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)$/;

/**
 * Checks a generation completely before anything is written: manifest schema, file names,
 * every model loads in the model runtime and matches its manifest entry, and every example
 * scores to its expected output. Throws 400 INVALID_GENERATION listing every problem.
 */
export async function validateGeneration(files: FileSet, runtime: ModelRuntime, sandbox: CodeSandbox = defaultSandbox()): Promise<ValidatedGeneration> {
  const problems: string[] = [];
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes) throw invalid(['manifest.json is missing at the top of the generation']);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch (e) {
    throw invalid([`manifest.json is not valid JSON: ${describe(e).replace(/^SyntaxError: /, '')}`]);
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) throw invalid(formatIssues(parsed.error.issues).split('; ').map((i) => `manifest.json: ${i}`));
  const manifest = parsed.data;
  for (const path of files.keys()) {
    if (!ALLOWED.test(path) || path.split('/').includes('..')) problems.push(`unexpected file "${path}" (only manifest.json, models/, data/ and code/)`);
  }
  // Import runs no user code and reaches no database: code is inspected, SQL compiled.
  const services: KindServices = {
    models: runtime,
    sql: () => undefined,
    code: new CodeRuntime(sandbox, () => Promise.reject(new Error('no calls during an import')), silentLogger),
    log: silentLogger,
  };
  const ctx: CheckContext = { files, services };
  let examplesChecked = 0;
  for (const spec of manifest.endpoints) {
    const checked = await kindOf(spec.type).check(spec, ctx);
    problems.push(...checked.problems);
    examplesChecked += checked.examplesChecked;
  }
  if (problems.length) throw invalid(problems);
  const bytes = [...files.values()].reduce((n, b) => n + b.byteLength, 0);
  return { manifest, files, bytes, examplesChecked };
}

function invalid(problems: string[]): ApiError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new ApiError(400, 'INVALID_GENERATION', `The generation is invalid: ${problems[0]}${more}`, problems.join('\n'));
}

/**
 * Writes a validated generation: every file, then manifest.json LAST, so a failure part-way
 * leaves no visible generation (and the partial files are removed, best effort).
 * Re-importing a committed generation id is 409: generations are immutable.
 */
export async function commitGeneration(store: ObjectStore, serviceId: string, v: ValidatedGeneration): Promise<void> {
  const gen = v.manifest.generation;
  if (await store.get(layout.manifest(serviceId, gen))) {
    throw new ApiError(409, 'GENERATION_EXISTS', `Generation "${gen}" of service "${serviceId}" already exists; generations are immutable, import it under a new id`);
  }
  const written: string[] = [];
  try {
    for (const [path, body] of v.files) {
      if (path === 'manifest.json') continue;
      const key = layout.file(serviceId, gen, path);
      await store.put(key, body);
      written.push(key);
    }
    await store.put(layout.manifest(serviceId, gen), v.files.get('manifest.json') as Uint8Array);
  } catch (e) {
    await Promise.all(written.map((k) => store.delete(k).catch(() => undefined)));
    throw e;
  }
}
