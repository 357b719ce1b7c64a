import {
  ExplanationBackground,
  Manifest,
  isPredictionEndpoint,
  type CausalEndpointSpec,
  type ForecastEndpointSpec,
  type PredictionEndpointSpec,
  type PredictionResult,
} from '@apinode/protocol';
import { CausalModel, checkCausalExamples } from '../endpoints/causal-model.js';
import { ForecastModel, checkForecastExamples } from '../endpoints/forecast-model.js';
import { Lookup } from '../endpoints/lookup.js';
import { SqlQueryEndpoint } from '../endpoints/sql-query.js';
import { ApiError, describe, formatIssues } from '../errors.js';
import type { CodeSandbox } from '../code/sandbox.js';
import { codeProblems, defaultSandbox } from '../code/validate.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import { PredictionModel } from '../inference/prediction-model.js';
import { layout } from '../storage/layout.js';
import type { ObjectStore } from '../storage/object-store.js';
import { parseStoredJson } from '../storage/stored-json.js';
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
  let examplesChecked = 0;
  for (const spec of manifest.endpoints) {
    if (spec.type === 'FUNCTION' || spec.type === 'CUSTOM_PREDICTION') {
      problems.push(...(await codeProblems(spec, files, sandbox)));
      continue;
    }
    if (spec.type === 'STD_FORECAST' || spec.type === 'STD_CAUSAL_PREDICTION') {
      problems.push(...(await checkTimeseriesEndpoint(spec, files, runtime)));
      examplesChecked += spec.examples.length;
      continue;
    }
    if (!isPredictionEndpoint(spec)) {
      // Data endpoints are checked as far as possible without a database: their SQL compiles.
      try {
        if (spec.type === 'SQL_QUERY') new SqlQueryEndpoint(spec);
        else if (spec.type === 'DATASETS_LOOKUP') new Lookup(spec);
      } catch (e) {
        problems.push(`endpoint "${spec.id}": ${describe(e).replace(/^Error: /, '')}`);
      }
      continue;
    }
    const onnx = files.get(spec.model.file);
    if (!onnx) {
      problems.push(`endpoint "${spec.id}": ${spec.model.file} is missing`);
      continue;
    }
    let background: ExplanationBackground | undefined;
    const bgPath = spec.explanations?.background;
    if (bgPath) {
      const bg = files.get(bgPath);
      if (!bg) {
        problems.push(`endpoint "${spec.id}": ${bgPath} (explanation background) is missing`);
        continue;
      }
      try {
        background = parseStoredJson(bg, ExplanationBackground, bgPath, 'INVALID_GENERATION');
      } catch (e) {
        problems.push(`endpoint "${spec.id}": ${(e as ApiError).message}: ${(e as ApiError).detailedMessage}`);
        continue;
      }
    }
    let model: PredictionModel;
    try {
      model = await PredictionModel.load(spec, onnx, runtime, background);
    } catch (e) {
      problems.push(`endpoint "${spec.id}": the model cannot be loaded: ${describe(e).slice(0, 300)}`);
      continue;
    }
    try {
      problems.push(...(await checkExamples(spec, model)));
      examplesChecked += spec.examples.length;
    } finally {
      model.release();
    }
  }
  if (problems.length) throw invalid(problems);
  const bytes = [...files.values()].reduce((n, b) => n + b.byteLength, 0);
  return { manifest, files, bytes, examplesChecked };
}

async function checkExamples(spec: PredictionEndpointSpec, model: PredictionModel): Promise<string[]> {
  if (spec.examples.length === 0) return [];
  let results: PredictionResult[];
  try {
    results = (await model.score(spec.examples.map((e) => e.features))).results;
  } catch (e) {
    return [`endpoint "${spec.id}": scoring the examples failed: ${describe(e).slice(0, 300)}`];
  }
  return spec.examples.flatMap((ex, i) => {
    const got = results[i] as PredictionResult;
    const want = ex.expected;
    const where = `endpoint "${spec.id}" example ${i}`;
    if (want.ignored !== undefined && got.ignored !== want.ignored) return [`${where}: expected ignored=${want.ignored}, got ${got.ignored}${got.ignoreReason ? ` (${got.ignoreReason})` : ''}`];
    if (got.ignored) return want.ignored ? [] : [`${where}: the record was ignored: ${got.ignoreReason}`];
    const out: string[] = [];
    const close = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= ex.tolerance : a === b);
    if (want.prediction !== undefined && !close(got.prediction, want.prediction)) out.push(`${where}: expected prediction ${JSON.stringify(want.prediction)}, got ${JSON.stringify(got.prediction)}`);
    if (want.cluster !== undefined && got.cluster !== want.cluster) out.push(`${where}: expected cluster ${want.cluster}, got ${got.cluster}`);
    for (const [cls, p] of Object.entries(want.probas ?? {})) {
      if (!close(got.probas?.[cls], p)) out.push(`${where}: expected P(${cls}) ${p}, got ${got.probas?.[cls]} (tolerance ${ex.tolerance})`);
    }
    return out;
  });
}

/** A forecasting or causal endpoint: its model loads, matches its manifest entry and answers its examples. */
async function checkTimeseriesEndpoint(spec: ForecastEndpointSpec | CausalEndpointSpec, files: FileSet, runtime: ModelRuntime): Promise<string[]> {
  const onnx = files.get(spec.model.file);
  if (!onnx) return [`endpoint "${spec.id}": ${spec.model.file} is missing`];
  let model: ForecastModel | CausalModel;
  try {
    model = spec.type === 'STD_FORECAST' ? await ForecastModel.load(spec, onnx, runtime) : await CausalModel.load(spec, onnx, runtime);
  } catch (e) {
    return [`endpoint "${spec.id}": the model cannot be loaded: ${describe(e).slice(0, 300)}`];
  }
  try {
    return spec.type === 'STD_FORECAST' ? await checkForecastExamples(spec, model as ForecastModel) : await checkCausalExamples(spec, model as CausalModel);
  } catch (e) {
    return [`endpoint "${spec.id}": scoring the examples failed: ${describe(e).slice(0, 300)}`];
  } finally {
    model.release();
  }
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
