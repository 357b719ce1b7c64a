import { ExplanationBackground, type ExplanationsParams, type PredictionEndpointSpec, type PredictionResult, type PredictionTiming } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { FeatureRecord } from '../inference/encoding.js';
import { resolveExplanations } from '../inference/explain/explainer.js';
import { PredictionModel, type Scored } from '../inference/prediction-model.js';
import { Lookup } from '../sql/lookup.js';
import type { SqlConnections } from '../sql/sql-client.js';
import { parseStoredJson } from '../storage/stored-json.js';
import { archiveFiles, checkByLoading, close } from './import-check.js';
import { at, type CallContext, type Compiled, type EndpointKind, type GenerationFiles, type KindServices } from './kind.js';
import { checkEnrichment, enrich } from './prediction/enrich.js';
import { generatedRecords } from './generated-examples.js';
import { nextTurn, ScoreCoalescer } from './prediction-batch.js';
import { recordActions, type Item } from './record-actions.js';

export { PredictionEndpointSpec } from '@apinode/protocol';

/**
 * STD_PREDICTION and STD_CLUSTERING: an ONNX model scored on records (docs/generation-format.md),
 * with optional explanations, percentiles and features enriched from a database first.
 */
export class PredictionEndpoint implements Compiled {
  constructor(
    readonly spec: PredictionEndpointSpec,
    readonly model: PredictionModel,
    private readonly lookups: readonly Lookup[],
    private readonly sql: SqlConnections,
    readonly bytes: number,
  ) {}

  private readonly batcher = ((turn) => (turn ? new ScoreCoalescer((records) => this.model.score(records), turn) : null))(nextTurn());

  /** Scores records in one batch: no enrichment, no explanations (custom predictions' ctx.predict). */
  score(records: readonly FeatureRecord[]): Promise<Scored> {
    return this.model.score(records);
  }

  /** Enriches, scores as ONE batch and explains when asked; records an enrichment policy ignored are not scored. */
  async scoreItems(items: readonly Item[], call: CallContext, params?: ExplanationsParams): Promise<{ results: PredictionResult[]; timing: PredictionTiming; features: readonly FeatureRecord[] }> {
    const explain = resolveExplanations(params, this.spec);
    if (typeof explain === 'string') throw new ApiError(422, 'EXPLANATIONS_UNAVAILABLE', 'This endpoint cannot explain its predictions', explain);
    const features = items.map((i) => i.features);
    const enrichFrom = performance.now();
    const { records, ignored } = this.lookups.length ? await enrich(this.lookups, features, this.sql) : { records: features, ignored: new Map<number, string>() };
    const enrichUs = this.lookups.length ? Math.round((performance.now() - enrichFrom) * 1000) : 0;
    const keep = ignored.size ? records.flatMap((_, i) => (ignored.has(i) ? [] : [i])) : null;
    const toScore = keep ? keep.map((i) => records[i]!) : records;
    // Concurrent single-record predicts share one model run (prediction-batch.ts).
    const scored = await (!explain && toScore.length === 1 && this.batcher ? this.batcher.submit(toScore) : this.model.score(toScore, explain));
    let results = scored.results;
    if (keep) {
      results = records.map((_, i) => ({ ignored: true, ignoreReason: ignored.get(i) ?? '' }));
      keep.forEach((i, k) => (results[i] = scored.results[k]!));
    }
    // The query log keeps the records as enriched: what the model saw (docs/query-log.md).
    return { results, timing: { preProcessing: call.preProcessing, wait: call.wait, enrich: enrichUs, ...scored.timing }, features: records };
  }

  dispose(): void {
    this.model.release();
  }
}

async function load(spec: PredictionEndpointSpec, files: GenerationFiles, services: KindServices): Promise<PredictionEndpoint> {
  const bgFile = spec.explanations?.background;
  const [onnx, bg] = await Promise.all([files.read(spec.model.file), bgFile ? files.read(bgFile) : undefined]);
  const background = bg && bgFile ? parseStoredJson(bg, ExplanationBackground, `The explanation background ${bgFile} of generation "${files.generation}"`, 'GENERATION_BROKEN') : undefined;
  const lookups = spec.enrich.map((l) => new Lookup(l));
  const model = await PredictionModel.load(spec, onnx, services.models, background);
  return new PredictionEndpoint(spec, model, lookups, services.sql, model.bytes + (bg?.byteLength ?? 0));
}

/** Every example of the manifest scores as declared, within its tolerance. */
async function checkExamples(spec: PredictionEndpointSpec, endpoint: PredictionEndpoint): Promise<string[]> {
  // Without examples the model still runs once, on records made from its features (issue 15).
  if (spec.examples.length === 0) {
    await endpoint.score(generatedRecords(spec));
    return [];
  }
  const { results } = await endpoint.score(spec.examples.map((e) => e.features));
  return spec.examples.flatMap((ex, i) => {
    const got = results[i] as PredictionResult;
    const want = ex.expected;
    const where = `${at(spec)} example ${i}`;
    if (want.ignored !== undefined && got.ignored !== want.ignored) return [`${where}: expected ignored=${want.ignored}, got ${got.ignored}${got.ignoreReason ? ` (${got.ignoreReason})` : ''}`];
    if (got.ignored) return want.ignored ? [] : [`${where}: the record was ignored: ${got.ignoreReason}`];
    const out: string[] = [];
    const near = close(ex.tolerance);
    if (want.prediction !== undefined && !near(got.prediction, want.prediction)) out.push(`${where}: expected prediction ${JSON.stringify(want.prediction)}, got ${JSON.stringify(got.prediction)}`);
    if (want.cluster !== undefined && got.cluster !== want.cluster) out.push(`${where}: expected cluster ${want.cluster}, got ${got.cluster}`);
    for (const [cls, p] of Object.entries(want.probas ?? {})) {
      if (!near(got.probas?.[cls], p)) out.push(`${where}: expected P(${cls}) ${p}, got ${got.probas?.[cls]} (tolerance ${ex.tolerance})`);
    }
    return out;
  });
}

export const prediction: EndpointKind<'STD_PREDICTION' | 'STD_CLUSTERING', PredictionEndpoint> = {
  actions: recordActions({ single: 'predict', multi: 'predict-multi', simple: 'predict-simple' }, (endpoint: PredictionEndpoint, items, call, params) =>
    endpoint.scoreItems(items, call, params),
  ),
  load,
  preload: true,
  // The model loads and scores its examples; enrichment lookups run once, rolled back, where the database is reachable.
  check: async (spec, ctx) => {
    const [model, lookups] = await Promise.all([
      checkByLoading(() => load(spec, archiveFiles(ctx), ctx.services), spec, (endpoint) => checkExamples(spec, endpoint)),
      spec.enrich.length ? checkEnrichment(spec, ctx) : null,
    ]);
    return { problems: [...model.problems, ...(lookups?.problems ?? [])], examplesChecked: model.examplesChecked };
  },
};
