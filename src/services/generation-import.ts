import { Manifest } from '@apinode/protocol';
import { ApiError, describe, formatIssues } from '../errors.js';
import { CodeRuntime } from '../code/code-runtime.js';
import type { CodeSandbox } from '../code/sandbox.js';
import { defaultSandbox } from '../code/validate.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import type { CheckContext, KindServices } from '../kinds/kind.js';
import { kindOf } from '../kinds/registry.js';
import { silentLogger } from '../observability/logger.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { layout } from '../storage/layout.js';
import { sha256Hex } from '../storage/content-hash.js';
import { isPreconditionFailed, type ObjectStore } from '../storage/object-store.js';
import { ImportClaim } from './import-claim.js';
import { ModelChecks, type ModelCheck } from './model-checks.js';
import type { FileSet } from './archive.js';

export interface ValidatedGeneration {
  readonly manifest: Manifest;
  readonly files: FileSet;
  readonly bytes: number;
  readonly examplesChecked: number;
  /** What each model endpoint's check took (written to manifest.json). @default - none */
  readonly importChecks?: Readonly<Record<string, ModelCheck>>;
}

const ALLOWED = /^(manifest\.json|(models|data|code)\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)$/;

/**
 * Checks a generation completely before anything is written: manifest schema, file names,
 * every model loads in the model runtime and matches its manifest entry, and every example
 * scores to its expected output. Throws 400 INVALID_GENERATION listing every problem.
 */
export async function validateGeneration(
  files: FileSet,
  runtime: ModelRuntime,
  sandbox: CodeSandbox = defaultSandbox(),
  /** The node's database connections: data endpoints' statements run once, rolled back. @default - none: their SQL is only compiled */
  sql: SqlConnections = () => undefined,
): Promise<ValidatedGeneration> {
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
  // Import runs no user code: code is inspected. Data endpoints' statements run once, in a
  // transaction that always rolls back, on the connection they name (compiled only without one).
  const services: KindServices = {
    models: runtime,
    sql,
    code: new CodeRuntime(sandbox, () => Promise.reject(new Error('no calls during an import')), silentLogger),
    log: silentLogger,
  };
  // Model endpoints load and score their examples in a throwaway runtime where there is one, each
  // held to the import's time and memory budget (model-checks.ts).
  const models = new ModelChecks(runtime);
  let examplesChecked = 0;
  try {
    for (const spec of manifest.endpoints) {
      const runtimeFor = await models.models(spec);
      const ctx: CheckContext = { files, services: { ...services, models: runtimeFor } };
      const checked = await models.measure(spec, runtimeFor, () => kindOf(spec.type).check(spec, ctx));
      problems.push(...checked.problems);
      examplesChecked += checked.examplesChecked;
    }
  } finally {
    await models.close();
  }
  if (problems.length) throw invalid(problems);
  const bytes = [...files.values()].reduce((n, b) => n + b.byteLength, 0);
  return { manifest, files, bytes, examplesChecked, importChecks: models.checks };
}

function invalid(problems: string[]): ApiError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new ApiError(400, 'INVALID_GENERATION', `The generation is invalid: ${problems[0]}${more}`, problems.join('\n'));
}

/**
 * Writes a validated generation so that concurrent imports of one id end with exactly one
 * committed generation holding exactly that import's files (docs/admin.md#concurrent-imports):
 *
 * 1. The id is claimed first: a claim object created only if absent (If-None-Match: *). A second
 *    import finds it and answers 409 GENERATION_IMPORT_IN_PROGRESS. A claim whose heartbeat is
 *    older than CLAIM_STALE_MS (a crashed importer) is broken by replacing it If-Match its etag,
 *    so of two importers breaking it at once, one wins.
 * 2. Under the claim, the manifest is checked absent again (the claim may have been released by
 *    an import that committed), and files a crashed import left behind are deleted.
 * 3. Every file is written, the claim's heartbeat refreshed (If-Match: an import whose claim was
 *    broken stops there), then manifest.json LAST, with the SHA-256 of every file in `files`,
 *    created only if absent. A failure part-way removes the files written (best effort).
 * Re-importing a committed generation id is 409 GENERATION_EXISTS: generations are immutable.
 */
export async function commitGeneration(store: ObjectStore, serviceId: string, v: ValidatedGeneration, now: () => number = Date.now): Promise<void> {
  const gen = v.manifest.generation;
  const manifestKey = layout.manifest(serviceId, gen);
  const files = await fileHashes(v);
  if (await store.get(manifestKey)) throw generationExists(serviceId, gen);
  const claim = await ImportClaim.take(store, serviceId, gen, now);
  const written: string[] = [];
  try {
    if (await store.get(manifestKey)) throw generationExists(serviceId, gen);
    for (const key of await store.list(layout.generation(serviceId, gen))) if (key !== claim.key) await store.delete(key);
    for (const [path, body] of v.files) {
      if (path === 'manifest.json') continue;
      const key = layout.file(serviceId, gen, path);
      await store.put(key, body);
      written.push(key);
      await claim.heartbeat(false);
    }
    await claim.heartbeat(true);
    await store.put(manifestKey, manifestWithFiles(v, files), { ifNoneMatch: '*' }).catch((e: unknown) => {
      throw isPreconditionFailed(e) ? generationExists(serviceId, gen) : e;
    });
  } catch (e) {
    // Files at these keys belong to whoever holds the claim now, and to a committed generation
    // if one appeared regardless (a node without claims, mid-deploy): then they stay.
    if ((await claim.held().catch(() => false)) && !(await store.get(manifestKey).catch(() => true))) await Promise.all(written.map((k) => store.delete(k).catch(() => undefined)));
    throw e;
  } finally {
    await claim.release().catch(() => undefined);
  }
}

const generationExists = (serviceId: string, gen: string) =>
  new ApiError(409, 'GENERATION_EXISTS', `Generation "${gen}" of service "${serviceId}" already exists; generations are immutable, import it under a new id`);

/** SHA-256 of every file but the manifest; an archive whose manifest declares `files` must agree with them (400). */
async function fileHashes(v: ValidatedGeneration): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const path of [...v.files.keys()].sort()) if (path !== 'manifest.json') files[path] = await sha256Hex(v.files.get(path) as Uint8Array);
  const declared = v.manifest.files;
  if (declared) {
    const paths = [...new Set([...Object.keys(declared), ...Object.keys(files)])].sort();
    const wrong = paths.filter((p) => declared[p] !== files[p]);
    if (wrong.length) throw invalid(wrong.map((p) => `manifest.json: files.${p}: ${files[p] === undefined ? 'no such file in the archive' : declared[p] === undefined ? 'the archive has this file but "files" does not list it' : 'the SHA-256 is not the file\'s'}`));
  }
  return files;
}

/** The manifest as uploaded (not the parsed copy with defaults filled in), with `files` set. */
function manifestWithFiles(v: ValidatedGeneration, files: Record<string, string>): Uint8Array {
  // What the archive says it measured is not kept: importChecks are this node's figures.
  const json = JSON.parse(new TextDecoder().decode(v.files.get('manifest.json'))) as Record<string, unknown>;
  delete json.importChecks;
  const checks = v.importChecks && Object.keys(v.importChecks).length ? { importChecks: v.importChecks } : {};
  return new TextEncoder().encode(JSON.stringify({ ...json, files, ...checks }, null, 2) + '\n');
}
