import { ApiContext, EffectResult, ForecastResponse, FunctionResponse, LookupResponse, PredictMultiResponse, PredictResponse, PredictionTiming, SqlQueryResponse } from '@apinode/protocol';
import { z, type ZodType } from 'zod';

/** What the documents say of one user-API action: a summary, and the answer's schema and component name. */
export interface ActionDoc {
  readonly summary: string;
  readonly answer: ZodType;
  readonly answerName: string;
}

const EffectResponse = z.object({ result: EffectResult, timing: PredictionTiming, apiContext: ApiContext });
const EffectMultiResponse = z.object({ results: z.array(EffectResult), timing: PredictionTiming, apiContext: ApiContext });
// The request path adds apiContext to every answer (src/api/endpoint-routes.ts).
const SqlAnswer = SqlQueryResponse.extend({ apiContext: ApiContext });
const LookupAnswer = LookupResponse.extend({ apiContext: ApiContext });

/**
 * Answers by action name. The kinds (src/kinds/registry.ts) say which actions exist and what
 * they read; what they answer is written here, once, from the protocol's schemas. An action
 * missing from this table fails the document (and its test) with a message saying so.
 */
const ACTIONS: Record<string, ActionDoc> = {
  predict: { summary: 'Score one record', answer: PredictResponse, answerName: 'PredictResponse' },
  'predict-simple': { summary: 'Score one record given as query parameters', answer: PredictResponse, answerName: 'PredictResponse' },
  'predict-multi': { summary: 'Score a batch of records', answer: PredictMultiResponse, answerName: 'PredictMultiResponse' },
  'predict-effect': { summary: 'The treatment effect on one record', answer: EffectResponse, answerName: 'EffectResponse' },
  'predict-effect-multi': { summary: 'The treatment effect on a batch of records', answer: EffectMultiResponse, answerName: 'EffectMultiResponse' },
  forecast: { summary: 'Forecast every series of the records', answer: ForecastResponse, answerName: 'ForecastResponse' },
  run: { summary: 'Call the function with named arguments', answer: FunctionResponse, answerName: 'FunctionResponse' },
  query: { summary: 'Run the SQL statements with named parameters', answer: SqlAnswer, answerName: 'SqlQueryResponse' },
  lookup: { summary: 'Look one record up by its keys', answer: LookupAnswer, answerName: 'LookupResponse' },
  'lookup-multi': { summary: 'Look a batch of records up', answer: LookupAnswer, answerName: 'LookupResponse' },
  'lookup-simple': { summary: 'Look one record up by keys given as query parameters', answer: LookupAnswer, answerName: 'LookupResponse' },
};

export function actionDoc(name: string): ActionDoc {
  const doc = ACTIONS[name];
  if (!doc) throw new Error(`the user-API action "${name}" has no answer schema: add it to src/api/openapi/answers.ts`);
  return doc;
}

/** Shared parts of the answers, named so that every answer refers to one copy. */
export const SHARED_ANSWER_PARTS = { ApiContext, PredictionTiming } as const;
