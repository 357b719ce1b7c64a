import { z } from 'zod';

/** The statuses the node answers errors with (DESIGN 2). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503 | 508;

interface ErrorTypeInfo {
  /** The statuses it comes with; most types have one. */
  readonly status: readonly ErrorStatus[];
  /** One line: when the node answers it. */
  readonly meaning: string;
}

/**
 * Every errorType the node answers (user and admin API), with its status and meaning: the one
 * vocabulary of the node's ApiError, the client's ApiNodeError and the CLI's hints. The table
 * in docs/api.md ("Error types") is checked against it by test/unit/error-types.test.ts
 * (APINODE_UPDATE_DOCS=1 rewrites it); so is the status of every `new ApiError(…)` in src/.
 */
export const ERROR_TYPES = {
  INVALID_JSON: { status: [400], meaning: 'the body is empty, not JSON, or nested deeper than 64 levels' },
  INVALID_REQUEST: { status: [400], meaning: 'the body or a parameter does not have the shape the API expects' },
  INVALID_RECORD: { status: [400], meaning: 'the one record of predict, predict-simple or predict-effect cannot be scored (the reason is in the message)' },
  WRONG_ENDPOINT_TYPE: { status: [400], meaning: 'the endpoint is of a kind that does not answer this action (run on a prediction endpoint, …)' },
  UNKNOWN_ARGUMENT: { status: [400], meaning: 'a function was called with an argument it does not take' },
  MISSING_ARGUMENT: { status: [400], meaning: 'a function was called without one of its required arguments' },
  UNKNOWN_PARAMETER: { status: [400], meaning: 'a SQL query was sent a parameter it does not declare' },
  MISSING_PARAMETER: { status: [400], meaning: 'a SQL query was sent without one of its parameters' },
  INVALID_PARAMETER: { status: [400], meaning: 'a SQL query parameter cannot be read as its declared type' },
  SQL_INVALID_PARAMETER: { status: [400], meaning: 'the database refused a parameter value of the query' },
  MISSING_KEY: { status: [400], meaning: 'a lookup record lacks a key, and the endpoint treats that as an error' },
  NO_MATCH: { status: [400], meaning: 'a lookup record matches no row, and the endpoint treats that as an error' },
  MULTIPLE_LOOKUP_MATCHES: { status: [400], meaning: 'a lookup record matches several rows, and the endpoint treats that as an error' },
  INVALID_ARCHIVE: { status: [400], meaning: 'admin: the upload is not a readable tar.gz, tar or zip' },
  INVALID_GENERATION: { status: [400], meaning: 'admin: the generation fails validation (one problem per line in detailedMessage)' },
  OPERATION_NOT_SUPPORTED: { status: [400], meaning: 'admin: a DSS operation apinode has no equivalent for' },
  MISSING_CREDENTIALS: { status: [401], meaning: 'the service or the admin API needs credentials and none were sent' },
  INVALID_CREDENTIALS: { status: [401], meaning: 'the key or token is unknown, malformed or not valid for this service' },
  KEY_EXPIRED: { status: [401], meaning: 'the admin key is past its expiry' },
  FORBIDDEN: { status: [403], meaning: 'valid credentials without access (an OAuth2 token without the required scope)' },
  IMPORT_DIR_NOT_CONFIGURED: { status: [403], meaning: 'admin: this node imports no archives from paths' },
  IMPORT_PATH_FORBIDDEN: { status: [403], meaning: 'admin: the archive path is outside what the node may read' },
  SERVICE_NOT_FOUND: { status: [404], meaning: 'no service has this id' },
  ENDPOINT_NOT_FOUND: { status: [404], meaning: 'the chosen generation has no endpoint with this id' },
  GENERATION_NOT_FOUND: { status: [404], meaning: 'the generation the caller named (forcedGeneration, admin) is not mapped or not committed' },
  KEY_NOT_FOUND: { status: [404], meaning: 'admin: no key has this id, label or value' },
  IMPORT_NOT_FOUND: { status: [404], meaning: 'admin: there is no archive at the path given' },
  NOT_FOUND: { status: [404], meaning: 'no route for this method and path' },
  ROLLOUT_NOT_FOUND: { status: [404], meaning: 'admin: the service has never had a guarded rollout (docs/rollouts.md)' },
  SERVICE_EXISTS: { status: [409], meaning: 'admin: a service with this id already exists' },
  GENERATION_EXISTS: { status: [409], meaning: 'admin: a generation with this id already exists (generations are immutable)' },
  GENERATION_IMPORT_IN_PROGRESS: { status: [409], meaning: 'admin: another import of this generation id is running (or took it over from this one)' },
  GENERATION_NOT_COMMITTED: { status: [409], meaning: 'admin: the mapping names generations that are not committed' },
  KEY_EXISTS: { status: [409], meaning: 'admin: the key or its label is already registered' },
  KEY_LABEL_AMBIGUOUS: { status: [409], meaning: 'admin: several keys carry this label; revoke by id' },
  ROLLOUT_IN_PROGRESS: { status: [409], meaning: 'admin: a guarded rollout is already running on the service: promote or abort it first' },
  ROLLOUT_NOT_RUNNING: { status: [409], meaning: 'admin: promote or abort of a rollout that already completed, rolled back or was aborted' },
  CONFLICT: { status: [409], meaning: 'admin: service.json or admin/keys.json kept changing under concurrent writers for every retry; nothing was changed, try again' },
  SERVICE_NOT_MAPPED: { status: [409, 503], meaning: 'the service has no generation mapping yet (503 on the user API, 409 for an admin enable)' },
  NO_GENERATION: { status: [409, 503], meaning: 'the mapping sends traffic to no generation (503), or the service has none to switch to (409)' },
  PAYLOAD_TOO_LARGE: { status: [413], meaning: 'the body or archive is larger than the node accepts' },
  EXPLANATIONS_UNAVAILABLE: { status: [422], meaning: 'explanations were asked for on an endpoint that cannot give them' },
  INTERNAL_ERROR: { status: [500], meaning: 'a bug; detailedMessage holds the request id the log has it under' },
  GENERATION_BROKEN: { status: [500], meaning: 'a committed generation has a bad manifest, a missing file or a file that does not match its hash' },
  MODEL_LOAD_FAILED: { status: [500], meaning: "the endpoint's model does not load in the node's model runtime (the cause is logged)" },
  MODEL_RUN_FAILED: { status: [500], meaning: 'the model failed to run, or answered what its manifest does not describe (the cause is logged)' },
  MODEL_RUNTIME_ERROR: { status: [500, 503], meaning: 'onnxruntime failed while running the model: 503 when it could not allocate what the run needs (retry, or send a smaller batch), or the run took longer than `APINODE_MODEL_RUN_MAX_MS` (its thread was ended; Node and Lambda); 500 when the graph failed on this input; the session is reloaded before its next run' },
  CODE_ERROR: { status: [500], meaning: "the endpoint's code threw (its own message), or its module does not provide the function" },
  CODE_TIMEOUT: { status: [500], meaning: "the endpoint's code used more CPU time than its limit" },
  CODE_MEMORY_LIMIT: { status: [500], meaning: "the endpoint's code needed more memory than its limit" },
  CODE_INVALID_RESULT: { status: [500], meaning: 'a custom prediction returned something that is not a prediction' },
  CODE_SANDBOX_FAILED: { status: [500], meaning: 'the code sandbox itself failed (the cause is logged); the next call starts a new one' },
  CODE_DEADLINE_EXCEEDED: { status: [500], meaning: "the endpoint's code, waits and nested self-calls included, ran past its wall-clock deadline and was stopped" },
  CODE_ANSWER_TOO_LARGE: { status: [500], meaning: "the endpoint's code answered more bytes of JSON than the node allows (APINODE_CODE_MAX_ANSWER_BYTES)" },
  SQL_ERROR: { status: [500], meaning: "the endpoint's query failed in the database" },
  SERVICE_DISABLED: { status: [503], meaning: 'the service exists but is disabled' },
  SERVICE_CONFIG_INVALID: { status: [503], meaning: "the store holds a service.json that is not valid, and no good copy is cached" },
  ADMIN_KEYS_INVALID: { status: [503], meaning: 'admin: the store holds an admin/keys.json that is not valid' },
  GENERATION_MISSING: { status: [503], meaning: 'the mapping sent the request to a generation the store does not hold (yet)' },
  GENERATION_CORRUPT: { status: [503], meaning: "a committed generation's file does not match the SHA-256 its manifest recorded at import (logged at level error)" },
  STORE_UNAVAILABLE: { status: [503], meaning: 'the object store cannot be read and nothing cached can answer' },
  MODEL_RUNTIME_UNAVAILABLE: { status: [503], meaning: 'the model runtime could not start' },
  CODE_SANDBOX_UNAVAILABLE: { status: [503], meaning: 'the code sandbox could not start' },
  AUTH_PROVIDER_UNAVAILABLE: { status: [503], meaning: "the OAuth2 issuer's keys cannot be fetched" },
  SQL_NOT_CONFIGURED: { status: [503], meaning: 'the endpoint names a database connection this node does not have' },
  SQL_UNAVAILABLE: { status: [503], meaning: 'the database cannot be reached' },
  SQL_TIMEOUT: { status: [503], meaning: 'the query ran longer than the endpoint allows' },
  SELF_CALL_TOO_DEEP: { status: [508], meaning: 'self-client calls of code endpoints nest deeper than 4 levels (a loop)' },
  SELF_CALL_LIMIT_EXCEEDED: { status: [508], meaning: "one request's code made more self-client calls, at all depths together, than the node allows (APINODE_CODE_MAX_SELF_CALLS)" },
} as const satisfies Record<string, ErrorTypeInfo>;

export type ErrorType = keyof typeof ERROR_TYPES;

export const ErrorType = z.enum(Object.keys(ERROR_TYPES) as [ErrorType, ...ErrorType[]]);

/** The statuses an errorType comes with. */
export const statusesOf = (type: ErrorType): readonly ErrorStatus[] => ERROR_TYPES[type].status;
