import { z } from 'zod';
import type { CodeCaps } from './code/limits.js';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

/** Where query-log lines can go (APINODE_QUERY_LOG, docs/query-log.md). */
export const QUERY_LOG_SINKS = ['stdout', 'store', 'http'] as const;
export type QueryLogSinkName = (typeof QUERY_LOG_SINKS)[number];

const Schema = z.object({
  APINODE_CONFIG_TTL_S: int(10),
  APINODE_MAX_BODY_BYTES: int(10 * 1024 * 1024, 1),
  APINODE_MAX_BATCH_RECORDS: int(10_000, 1),
  APINODE_IMPORT_MODEL_MAX_MS: int(5_000, 1),
  APINODE_IMPORT_MODEL_MAX_MEMORY_MIB: int(1_024, 1),
  APINODE_MODEL_CACHE_BYTES: int(512 * 1024 * 1024, 1),
  APINODE_MODEL_THREADS: int(2),
  APINODE_MODEL_RUN_MAX_MS: int(10_000, 1),
  APINODE_MODEL_RECYCLE_MIB: int(256, 1),
  APINODE_MODEL_MAX_MEMORY_MIB: int(1_024, 64),
  APINODE_MANIFEST_CACHE_ENTRIES: int(256, 1),
  APINODE_QUERY_LOG: z
    .string()
    .default('stdout')
    .transform((v) => (v.trim() === 'off' ? [] : [...new Set(v.split(',').map((s) => s.trim()))]))
    .pipe(z.array(z.enum(QUERY_LOG_SINKS, { message: `use "off" or a comma-separated list of ${QUERY_LOG_SINKS.join(', ')}` }))),
  APINODE_QUERY_LOG_MAX_FIELD_BYTES: int(16 * 1024, 64),
  APINODE_QUERY_LOG_PREFIX: z.string().regex(/^([A-Za-z0-9_.=-]+\/)*$/, 'use a key prefix ending in "/", like "querylog/"').default('querylog/'),
  APINODE_QUERY_LOG_FLUSH_BYTES: int(1024 * 1024, 1024),
  APINODE_QUERY_LOG_FLUSH_S: int(60, 0),
  APINODE_QUERY_LOG_BUFFER_BYTES: int(16 * 1024 * 1024, 1024),
  APINODE_QUERY_LOG_DIR: z.string().optional(),
  APINODE_QUERY_LOG_BUCKET: z.string().optional(),
  APINODE_QUERY_LOG_URL: z.url({ protocol: /^https?$/, message: 'use an http(s) URL' }).optional(),
  APINODE_QUERY_LOG_SECRET: z.string().optional(),
  APINODE_ADMIN: z.enum(['on', 'off']).default('off'),
  APINODE_ADMIN_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  APINODE_MAX_IMPORT_BYTES: int(256 * 1024 * 1024, 1),
  APINODE_MAX_IMPORT_FILES: int(10_000, 1),
  APINODE_MAX_IMPORT_FILE_BYTES: z.coerce.number().int().min(1).optional(),
  APINODE_IMPORT_DIR: z.string().optional(),
  APINODE_OAUTH2_ALLOW_HTTP_JWKS: z.enum(['on', 'off']).default('off'),
  APINODE_CODE_WORKERS: int(4),
  APINODE_CODE_RECYCLE_MIB: int(256, 1),
  APINODE_CODE_MAX_CPU_MS: int(10_000, 1),
  APINODE_CODE_MAX_WALL_MS: int(30_000, 1),
  APINODE_CODE_MAX_MEMORY_MIB: int(256, 1),
  APINODE_CODE_MAX_SELF_CALLS: int(100),
  APINODE_CODE_MAX_ANSWER_BYTES: int(8 * 1024 * 1024, 1),
  APINODE_METRIC_WINDOWS: z.enum(['on', 'off']).default('on'),
  APINODE_METRIC_WINDOWS_EVERY_S: int(60, 1),
  APINODE_PREDICT_BATCHING: z.enum(['on', 'off']).default('on'),
});

/** Node configuration: one typed object, parsed once at start-up from APINODE_* variables. */
export interface Config {
  /** Seconds a service.json stays fresh before it is revalidated (ETag). */
  readonly configTtlS: number;
  readonly maxBodyBytes: number;
  /**
   * Most records one request may score: predict-multi and predict-effect-multi items, OIP infer
   * rows, lookup-multi and forecast items; more is a 400 (docs/isolation-models.md).
   * @default 10000
   */
  readonly maxBatchRecords: number;
  /**
   * Longest an import lets one model endpoint take to load and score its examples (or the
   * examples generated from its features), in milliseconds; longer is a 400.
   * @default 5000
   */
  readonly importModelMaxMs: number;
  /**
   * Most memory an import lets one model endpoint's example run need (growth of onnxruntime's
   * WebAssembly heap), in MiB; more is a 400. Not enforced where the heap cannot be seen (Workers).
   * @default 1024
   */
  readonly importModelMaxMemoryMiB: number;
  /** Budget of the per-instance ONNX session cache, in bytes of model files. */
  readonly modelCacheBytes: number;
  /**
   * Node and Lambda: most threads onnxruntime serves models in (docs/isolation-models.md): one
   * at start, another only while a run takes longer than 100 ms, so that runs waiting behind it
   * go there; 0 runs models on the thread that answers requests, as Workers do.
   * @default 2
   */
  readonly modelThreads: number;
  /**
   * Node and Lambda with model threads: longest one model run may take, and longest it may wait
   * for the runs before it (loads: this or the import's APINODE_IMPORT_MODEL_MAX_MS, the larger);
   * past it the run's thread is ended and the request answered 503 MODEL_RUNTIME_ERROR.
   * @default 10000
   */
  readonly modelRunMaxMs: number;
  /**
   * Node and Lambda with model threads: a thread whose onnxruntime heap grew by more than this
   * many MiB during runs (beyond what loading its models took) is replaced, returning the memory.
   * @default 256
   */
  readonly modelRecycleMiB: number;
  /**
   * Most memory one onnxruntime instance (a model thread, the serving thread with
   * APINODE_MODEL_THREADS=0, a Worker isolate) may grow its WebAssembly heap to, models included,
   * in MiB; a run needing more is a 503 MODEL_RUNTIME_ERROR and the node keeps serving.
   * @default 1024 - Workers: 64 when unset (src/runtime/worker.ts)
   */
  readonly modelMaxMemoryMiB: number;
  readonly manifestCacheEntries: number;
  /**
   * Query-log sinks, several at once; empty when APINODE_QUERY_LOG=off.
   * @default ['stdout']
   */
  readonly queryLog: readonly QueryLogSinkName[];
  /** @default 'querylog/' - the store sink's key prefix */
  readonly queryLogPrefix: string;
  /** The store and http sinks deliver a batch once it holds this many bytes of JSON lines. @default 1048576 */
  readonly queryLogFlushBytes: number;
  /** … or once its first line is this old (Workers: at most 20, within waitUntil's time). @default 60 */
  readonly queryLogFlushS: number;
  /** Most bytes of lines a sink holds while delivering; past it lines are dropped and counted. @default 16777216 */
  readonly queryLogBufferBytes: number;
  /** Node: the folder the store sink writes to. @default - the node's own store */
  readonly queryLogDir: string | undefined;
  /** Lambda: the bucket the store sink writes to. @default - the generations bucket */
  readonly queryLogBucket: string | undefined;
  /** The http sink's collector. @default - none: required when APINODE_QUERY_LOG names http */
  readonly queryLogUrl: string | undefined;
  /** The http sink's bearer secret. @default - no Authorization header */
  readonly queryLogSecret: string | undefined;
  /**
   * Largest features, context or result a query-log line keeps, in bytes of JSON; a larger one
   * is logged as {"truncated": true, "bytes": N}.
   * @default 16384
   */
  readonly queryLogMaxFieldBytes: number;
  /**
   * Concurrent single-record predicts on one model share one model run (micro-batching,
   * src/kinds/prediction-batch.ts): where the runtime has setImmediate (Node, Lambda).
   * @default true
   */
  readonly predictBatching: boolean;
  /** Mount the admin API (/admin/api). */
  readonly admin: boolean;
  /** A bootstrap admin key, accepted besides admin/keys.json; never stored. */
  readonly adminKey: string | undefined;
  /** Largest generation archive the admin API accepts, packed and unpacked. */
  readonly maxImportBytes: number;
  /**
   * Most entries (files and folders) one generation archive may hold.
   * @default 10000
   */
  readonly maxImportFiles: number;
  /**
   * Largest single file of a generation archive, unpacked.
   * @default - APINODE_MAX_IMPORT_BYTES
   */
  readonly maxImportFileBytes: number;
  /**
   * Node only: the folder the admin importFromArchive may read archives from (a path outside
   * it is 403). Lambda and Workers read object keys under "imports/" in the bucket instead.
   * @default - unset: importing from a path is refused, saying to set it
   */
  readonly importDir: string | undefined;
  /**
   * Accept plain-http JWKS URIs when an admin sets OAUTH2 (an identity provider on loopback in
   * tests). Never in production: whoever can alter the JWKS answer can forge tokens.
   * @default false - https only
   */
  readonly oauth2AllowHttpJwks: boolean;
  /**
   * Node and Lambda: most threads code endpoints run in, one call per thread at a time, started
   * on first use; 0 runs them on the main thread like Workers do (docs/isolation.md).
   * @default 4
   */
  readonly codeWorkers: number;
  /**
   * A code thread whose WebAssembly memory grew past this many MiB is replaced after its call.
   * @default 256
   */
  readonly codeRecycleMiB: number;
  /**
   * What the operator allows code endpoints, per request (nested self-calls included):
   * APINODE_CODE_MAX_CPU_MS, _WALL_MS, _MEMORY_MIB, _SELF_CALLS, _ANSWER_BYTES.
   * @default {cpuTimeMs: 10000, wallTimeMs: 30000, memoryMiB: 256, selfCalls: 100, answerBytes: 8388608}
   */
  readonly codeCaps: CodeCaps;
  /**
   * Write this instance's per-generation metric windows to the bucket (metrics/…, at most one
   * PUT per service, generation and minute with traffic): what guarded rollouts judge a new
   * generation by (docs/rollouts.md). Off: this instance's traffic does not count.
   * @default true
   */
  readonly metricWindows: boolean;
  /**
   * Least seconds between two writes of this instance's metric windows (a smaller value makes
   * rollout decisions fresher and costs more PUTs).
   * @default 60
   */
  readonly metricWindowsEveryS: number;
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const picked = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('APINODE_') && v !== ''));
  const parsed = Schema.safeParse(picked);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  const c = parsed.data;
  if (c.APINODE_QUERY_LOG.includes('http') && !c.APINODE_QUERY_LOG_URL) throw new Error('invalid configuration: APINODE_QUERY_LOG_URL: required when APINODE_QUERY_LOG names http');
  return {
    configTtlS: c.APINODE_CONFIG_TTL_S,
    maxBodyBytes: c.APINODE_MAX_BODY_BYTES,
    maxBatchRecords: c.APINODE_MAX_BATCH_RECORDS,
    importModelMaxMs: c.APINODE_IMPORT_MODEL_MAX_MS,
    importModelMaxMemoryMiB: c.APINODE_IMPORT_MODEL_MAX_MEMORY_MIB,
    modelCacheBytes: c.APINODE_MODEL_CACHE_BYTES,
    modelThreads: c.APINODE_MODEL_THREADS,
    modelRunMaxMs: c.APINODE_MODEL_RUN_MAX_MS,
    modelRecycleMiB: c.APINODE_MODEL_RECYCLE_MIB,
    modelMaxMemoryMiB: c.APINODE_MODEL_MAX_MEMORY_MIB,
    manifestCacheEntries: c.APINODE_MANIFEST_CACHE_ENTRIES,
    queryLog: c.APINODE_QUERY_LOG,
    queryLogMaxFieldBytes: c.APINODE_QUERY_LOG_MAX_FIELD_BYTES,
    queryLogPrefix: c.APINODE_QUERY_LOG_PREFIX,
    queryLogFlushBytes: c.APINODE_QUERY_LOG_FLUSH_BYTES,
    queryLogFlushS: c.APINODE_QUERY_LOG_FLUSH_S,
    queryLogBufferBytes: c.APINODE_QUERY_LOG_BUFFER_BYTES,
    queryLogDir: c.APINODE_QUERY_LOG_DIR,
    queryLogBucket: c.APINODE_QUERY_LOG_BUCKET,
    queryLogUrl: c.APINODE_QUERY_LOG_URL,
    queryLogSecret: c.APINODE_QUERY_LOG_SECRET,
    admin: c.APINODE_ADMIN === 'on',
    adminKey: c.APINODE_ADMIN_KEY,
    maxImportBytes: c.APINODE_MAX_IMPORT_BYTES,
    maxImportFiles: c.APINODE_MAX_IMPORT_FILES,
    maxImportFileBytes: c.APINODE_MAX_IMPORT_FILE_BYTES ?? c.APINODE_MAX_IMPORT_BYTES,
    importDir: c.APINODE_IMPORT_DIR,
    oauth2AllowHttpJwks: c.APINODE_OAUTH2_ALLOW_HTTP_JWKS === 'on',
    codeWorkers: c.APINODE_CODE_WORKERS,
    codeRecycleMiB: c.APINODE_CODE_RECYCLE_MIB,
    codeCaps: {
      cpuTimeMs: c.APINODE_CODE_MAX_CPU_MS,
      wallTimeMs: c.APINODE_CODE_MAX_WALL_MS,
      memoryMiB: c.APINODE_CODE_MAX_MEMORY_MIB,
      selfCalls: c.APINODE_CODE_MAX_SELF_CALLS,
      answerBytes: c.APINODE_CODE_MAX_ANSWER_BYTES,
    },
    metricWindows: c.APINODE_METRIC_WINDOWS === 'on',
    metricWindowsEveryS: c.APINODE_METRIC_WINDOWS_EVERY_S,
    predictBatching: c.APINODE_PREDICT_BATCHING === 'on',
  };
}
