import { PredictMultiRequest, PredictRequest, type ExplanationsParams } from '@apinode/protocol';
import { ApiError } from '../errors.js';
import type { FeatureRecord } from '../inference/encoding.js';
import type { Action, CallContext, Compiled } from './kind.js';

/** A record to score, with the caller's context (kept for the query log). */
export interface Item {
  readonly features: FeatureRecord;
  readonly context?: Record<string, unknown> | null | undefined;
}

/** Results in request order; an unusable record is { ignored: true, ignoreReason }. */
export interface ScoredItems<R> {
  readonly results: R[];
  readonly timing: object;
  /** The records as the model saw them, when the kind changed them (enrichment): what the query log keeps. @default - the items' features */
  readonly features?: readonly FeatureRecord[];
}

export type ScoreItems<C, R> = (endpoint: C, items: readonly Item[], call: CallContext, explanations?: ExplanationsParams) => Promise<ScoredItems<R>>;

interface Names {
  /** One record in the body: predict, predict-effect. */
  readonly single: string;
  /** items[] in the body: predict-multi, predict-effect-multi. */
  readonly multi: string;
  /** Features as query parameters: predict-simple. @default - none */
  readonly simple?: string;
}

type Ignorable = { readonly ignored?: boolean; readonly ignoreReason?: string | undefined };

/**
 * The record-scoring actions (DSS's predict family), written once for every kind that scores
 * records: prediction, clustering, custom prediction and causal effect. A kind gives only how
 * a batch is scored; every request shape is one batch, and every record is one query-log line.
 */
export function recordActions<C extends Compiled, R extends Ignorable>(names: Names, score: ScoreItems<C, R>): Action<C, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any -- each action reads its own input
  const scored = async (endpoint: C, items: readonly Item[], call: CallContext, explanations?: ExplanationsParams) => {
    const out = await score(endpoint, items, call, explanations);
    const log = () => items.map((item, i) => ({ features: out.features?.[i] ?? item.features, context: item.context ?? null, result: out.results[i] }));
    return { out, log };
  };
  const single = async (endpoint: C, item: Item, call: CallContext, explanations?: ExplanationsParams) => {
    const { out, log } = await scored(endpoint, [item], call, explanations);
    const result = out.results[0] as R;
    if (result.ignored) throw ApiError.badRequest('INVALID_RECORD', `The record cannot be scored: ${result.ignoreReason}`);
    return { body: { result, timing: out.timing }, records: 1, log, timing: out.timing };
  };
  const actions: Action<C, any>[] = [ // eslint-disable-line @typescript-eslint/no-explicit-any
    {
      name: names.single,
      method: 'POST',
      input: { body: PredictRequest },
      dispatch: (body: PredictRequest) => body.dispatch,
      run: (endpoint: C, body: PredictRequest, call: CallContext) => single(endpoint, body, call, body.explanations),
    } satisfies Action<C, PredictRequest>,
    {
      name: names.multi,
      method: 'POST',
      input: { body: PredictMultiRequest },
      dispatch: (body: PredictMultiRequest) => body.dispatch,
      run: async (endpoint: C, body: PredictMultiRequest, call: CallContext) => {
        const { out, log } = await scored(endpoint, body.items, call, body.explanations);
        return { body: { results: out.results, timing: out.timing }, records: body.items.length, log, timing: out.timing };
      },
    } satisfies Action<C, PredictMultiRequest>,
  ];
  if (names.simple) {
    actions.push({
      name: names.simple,
      method: 'GET',
      input: { query: (features: Record<string, string>): Item => ({ features }) },
      run: (endpoint: C, item: Item, call: CallContext) => single(endpoint, item, call),
    } satisfies Action<C, Item>);
  }
  return actions;
}
