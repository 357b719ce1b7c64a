import { ApiError } from '../errors.js';
import { causal } from './causal.js';
import { customPrediction } from './custom-prediction.js';
import { forecast } from './forecast.js';
import { fn } from './function.js';
import type { Action, EndpointKind, EndpointType, SpecOf } from './kind.js';
import { lookup } from './lookup.js';
import { prediction } from './prediction.js';
import { sqlQuery } from './sql-query.js';

/**
 * The endpoint kinds, and the ONLY place that lists them: routes, import validation, preload
 * and the API documents read this. `satisfies` makes a new endpoint type in the manifest
 * schema a compile error here until a kind answers it.
 */
const KINDS = {
  STD_PREDICTION: prediction,
  STD_CLUSTERING: prediction,
  STD_FORECAST: forecast,
  STD_CAUSAL_PREDICTION: causal,
  FUNCTION: fn,
  CUSTOM_PREDICTION: customPrediction,
  SQL_QUERY: sqlQuery,
  DATASETS_LOOKUP: lookup,
} satisfies Record<EndpointType, EndpointKind<any>>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each kind is typed where it is defined

/** The kind of an endpoint type; its load and check take specs of that type. */
export function kindOf(type: EndpointType): EndpointKind {
  // Each kind is typed for its own specs where it is defined; seen from here, all take EndpointSpec.
  return KINDS[type] as unknown as EndpointKind;
}

const kinds = [...new Set(Object.values(KINDS) as EndpointKind[])];

/**
 * Every action some kind answers, once per method and name: the routes to mount. An action
 * whose input carries the dispatch is read before the endpoint (hence its kind) is known, so
 * every kind's action of that name must read the same body.
 */
export const ALL_ACTIONS: readonly Action[] = (() => {
  const routes = new Map<string, Action>();
  for (const a of kinds.flatMap((k) => k.actions)) {
    const key = `${a.method} ${a.name}`;
    const first = routes.get(key);
    if (!first) routes.set(key, a);
    else if ((first.dispatch || a.dispatch) && !('body' in first.input && 'body' in a.input && first.input.body === a.input.body)) {
      throw new Error(`kinds disagree on the body of ${key}, which carries the dispatch`);
    }
  }
  return [...routes.values()];
})();

/** The action of this endpoint's kind, or 400 saying which actions the endpoint takes. */
export function actionOf(spec: SpecOf<EndpointType>, method: string, name: string): Action {
  const actions = KINDS[spec.type].actions;
  const action = actions.find((a) => a.method === method && a.name === name);
  if (action) return action;
  const names = [...new Set(actions.map((a) => a.name))];
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
  throw ApiError.badRequest('WRONG_ENDPOINT_TYPE', `Endpoint "${spec.id}" is a ${spec.type} endpoint: call ${list}`);
}
