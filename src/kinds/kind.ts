import type { EndpointSpec } from '@apinode/protocol';
import type { ZodType } from 'zod';
import type { CodeCall, CodeRuntime } from '../code/code-runtime.js';
import type { ModelRuntime } from '../inference/model-runtime.js';
import type { Lease } from '../inference/resource-cache.js';
import type { Logger } from '../observability/logger.js';
import type { DispatchRequest } from '../services/dispatch.js';
import type { SqlConnections } from '../sql/sql-client.js';

/**
 * What an endpoint kind is (DESIGN 4b): how a generation loads and checks its endpoints, which
 * actions they answer and how. Everything every kind shares (admission, dispatch, the
 * generation lease, timing, metrics, the query log, the X-Apinode-Generation header) is the
 * request path in src/api/endpoint-routes.ts; a kind supplies only what is its own.
 */

export type EndpointType = EndpointSpec['type'];
export type SpecOf<T extends EndpointType> = Extract<EndpointSpec, { type: T }>;

/** A loaded endpoint (a model session, compiled SQL, checked code). Its generation disposes it. */
export interface Compiled {
  /** What it holds in memory, for the generation cache's byte budget. */
  readonly bytes: number;
  dispose(): void;
}

/** The generation an endpoint loads from: its files and its other endpoints. */
export interface GenerationFiles {
  readonly serviceId: string;
  readonly generation: string;
  /** A file of the generation; throws when it is missing (a broken generation, or an import problem). */
  read(path: string): Promise<Uint8Array>;
  /** A lease on another endpoint of the same generation (custom predictions score with the generation's models): release it when done. */
  acquire(id: string): Promise<Lease<Compiled>>;
}

/** The platform capabilities kinds load with, built once by createApp. */
export interface KindServices {
  readonly models: ModelRuntime;
  readonly sql: SqlConnections;
  readonly code: CodeRuntime;
  readonly log: Logger;
}

/** One call of an action: plain values, no HTTP framework (who calls, for the code self-client too). */
export interface CallContext extends CodeCall {
  /** Microseconds from the request's arrival until the endpoint was ready to run. */
  readonly preProcessing: number;
  /** Microseconds spent waiting for the endpoint to load (0 when it was loaded). */
  readonly wait: number;
}

/** How an action reads its input: a JSON body checked against a schema, or the query string. */
export type Input<I> = { readonly body: ZodType<I> } | { readonly query: (params: Record<string, string>) => I };

/** One query-log line: what the endpoint saw and what it answered. */
export interface LoggedRecord {
  readonly features: unknown;
  readonly context?: unknown;
  readonly result: unknown;
}

export interface Outcome {
  /** The answer without apiContext, which the request path adds. */
  readonly body: Record<string, unknown>;
  /** Records scored, for metrics. @default 0 */
  readonly records?: number;
  /** Query-log lines, each with the answer's timing; built only when a query log is on. @default - none */
  readonly log?: () => readonly LoggedRecord[];
  readonly timing?: object;
}

export interface Action<C extends Compiled = Compiled, I = unknown> {
  /** The last path segment: predict, run, query, … */
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly input: Input<I>;
  /** The dispatch a request carries in its input (predict bodies); actions without one bind before reading it. */
  dispatch?(input: I): DispatchRequest | null | undefined;
  run(endpoint: C, input: I, call: CallContext): Promise<Outcome>;
}

/** What an import checks an endpoint against: the archive's files and the platform. */
export interface CheckContext {
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly services: KindServices;
}

export interface Checked {
  /** One line per problem, naming the endpoint. */
  readonly problems: string[];
  readonly examplesChecked: number;
}

export interface EndpointKind<T extends EndpointType = EndpointType, C extends Compiled = Compiled> {
  readonly actions: readonly Action<C, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- each action reads its own input
  load(spec: SpecOf<T>, files: GenerationFiles, services: KindServices): Promise<C>;
  /** Whether preloading a generation (Lambda init, admin preload) loads this kind's endpoints; else they load on first use. */
  readonly preload: boolean;
  /** Import-time checks beyond the manifest schema: files, loading, examples. */
  check(spec: SpecOf<T>, ctx: CheckContext): Promise<Checked>;
}

/** The endpoint's place in messages. */
export const at = (spec: { readonly id: string }) => `endpoint "${spec.id}"`;
