import type { ForecastResponse, PredictMultiResponse, PredictResponse } from '@apinode/protocol';
import { basic, call, type HttpOptions } from './http.js';

export interface DispatchOptions {
  forcedGeneration?: string;
  dispatchKey?: string;
}

export interface PredictOptions extends DispatchOptions {
  context?: Record<string, unknown>;
  withExplanations?: boolean;
  explanationMethod?: 'ICE' | 'SHAPLEY';
  nExplanations?: number;
  nExplanationsMonteCarloSteps?: number;
}

export interface ClientOptions extends HttpOptions {
  /** Service API key (sent as the Basic user name, as DSS clients do). */
  apiKey?: string;
  /** OAuth2 access token, for OAUTH2 services. */
  bearerToken?: string;
}

type Records = Record<string, unknown>[];

/**
 * The user API client, method for method the DSS `APINodeClient` (camelCased, endpoint first):
 * `new APINodeClient('https://node', 'demo', { apiKey }).predictRecord('car-mpg', {...})`.
 * Runs wherever fetch does (Node, browsers, Workers). Failures throw ApiNodeError.
 */
export class APINodeClient {
  private readonly auth: string | undefined;

  constructor(
    private readonly uri: string,
    private readonly serviceId: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.auth = opts.bearerToken ? `Bearer ${opts.bearerToken}` : opts.apiKey ? basic(opts.apiKey) : undefined;
  }

  predictRecord(endpointId: string, features: Record<string, unknown>, o: PredictOptions = {}): Promise<PredictResponse> {
    return this.post(endpointId, 'predict', { features, ...(o.context ? { context: o.context } : {}), ...dispatchAndExplanations(o) });
  }

  predictRecords(endpointId: string, records: Records, o: PredictOptions = {}): Promise<PredictMultiResponse> {
    return this.post(endpointId, 'predict-multi', { items: records.map((features) => ({ features, ...(o.context ? { context: o.context } : {}) })), ...dispatchAndExplanations(o) });
  }

  /** One result per series and horizon step: step by step, within a step the series in the order they first appear in records. */
  forecast(endpointId: string, records: Records, o: DispatchOptions = {}): Promise<ForecastResponse> {
    return this.post(endpointId, 'forecast', { items: records, ...dispatch(o) });
  }

  predictEffect<T = unknown>(endpointId: string, features: Record<string, unknown>, o: DispatchOptions = {}): Promise<T> {
    return this.post(endpointId, 'predict-effect', { features, ...dispatch(o) });
  }

  predictEffects<T = unknown>(endpointId: string, records: Records, o: DispatchOptions = {}): Promise<T> {
    return this.post(endpointId, 'predict-effect-multi', { items: records.map((features) => ({ features })), ...dispatch(o) });
  }

  sqlQuery<T = unknown>(endpointId: string, parameters: Record<string, unknown> = {}): Promise<T> {
    return this.post(endpointId, 'query', parameters);
  }

  lookupRecord<T = unknown>(endpointId: string, record: Record<string, unknown>, context?: Record<string, unknown>): Promise<T> {
    return this.post(endpointId, 'lookup', { data: record, ...(context ? { context } : {}) });
  }

  lookupRecords<T = unknown>(endpointId: string, records: Records): Promise<T> {
    return this.post(endpointId, 'lookup-multi', { items: records.map((data) => ({ data })) });
  }

  runFunction<T = unknown>(endpointId: string, args: Record<string, unknown> = {}): Promise<T> {
    return this.post(endpointId, 'run', args);
  }

  private post<T>(endpointId: string, action: string, body: unknown): Promise<T> {
    const path = `/public/api/v1/${encodeURIComponent(this.serviceId)}/${encodeURIComponent(endpointId)}/${action}`;
    return call<T>(this.uri, 'POST', path, this.auth, body, this.opts);
  }
}

const dispatch = (o: DispatchOptions) =>
  o.forcedGeneration || o.dispatchKey ? { dispatch: { ...(o.forcedGeneration ? { forcedGeneration: o.forcedGeneration } : {}), ...(o.dispatchKey ? { dispatchKey: o.dispatchKey } : {}) } } : {};

const dispatchAndExplanations = (o: PredictOptions) => ({
  ...dispatch(o),
  ...(o.withExplanations !== undefined || o.explanationMethod || o.nExplanations || o.nExplanationsMonteCarloSteps
    ? {
        explanations: {
          enabled: o.withExplanations ?? null,
          method: o.explanationMethod ?? null,
          nExplanations: o.nExplanations ?? null,
          nMonteCarloSteps: o.nExplanationsMonteCarloSteps ?? null,
        },
      }
    : {}),
});
