import { z } from 'zod';
import { Id } from './common.js';

/** A JavaScript identifier: an exported function name or a parameter name. */
const Identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'must be a JavaScript identifier');

/** Per-call limits of the sandbox (docs/code-endpoints.md). */
export const CodeLimits = z.object({
  /** CPU time the call may spend inside the sandbox (waits on the self-client do not count). @default 1000 */
  cpuTimeMs: z.number().int().min(1).max(30_000).default(1000),
  /** Heap of the call's QuickJS runtime. @default 32 */
  memoryMiB: z.number().int().min(1).max(512).default(32),
  /** Wall-clock deadline of the call, waits included (docs/isolation.md). @default 10000, within the node's APINODE_CODE_MAX_WALL_MS */
  wallTimeMs: z.number().int().min(1).max(300_000).optional(),
});
export type CodeLimits = z.infer<typeof CodeLimits>;

/**
 * The JavaScript module an endpoint runs: an ES module inside the generation, pinned by its
 * SHA-256 so that a generation's behaviour is as immutable as its models.
 */
export const CodeSpec = z.object({
  /** Path of the module inside the generation, e.g. "code/sum.js". */
  file: z.string().regex(/^code\/[A-Za-z0-9_.-]+\.m?js$/, 'must be code/<name>.js'),
  /** Lower-case hex SHA-256 of the file's bytes; checked at import and when the node loads it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  limits: CodeLimits.default({ cpuTimeMs: 1000, memoryMiB: 32 }),
  /** Keep one sandbox per endpoint and instance across calls (module state survives; calls are serialized). @default false: a fresh sandbox per call */
  keepState: z.boolean().default(false),
});
export type CodeSpec = z.infer<typeof CodeSpec>;

/** `run`: named arguments bound to the parameters of one exported function. */
export const FunctionEndpointSpec = z.object({
  id: Id,
  type: z.literal('FUNCTION'),
  code: CodeSpec,
  /** The exported function to call. */
  function: Identifier,
  /** Its parameter names, in order. @default - read from the function's signature */
  parameters: z.array(Identifier).optional(),
  description: z.string().optional(),
});
export type FunctionEndpointSpec = z.infer<typeof FunctionEndpointSpec>;

/** `predict`/`predict-multi`/`predict-simple` answered by `predict(features, ctx)` in JavaScript. */
export const CustomPredictionEndpointSpec = z.object({
  id: Id,
  type: z.literal('CUSTOM_PREDICTION'),
  predictionType: z.enum(['BINARY_CLASSIFICATION', 'MULTICLASS', 'REGRESSION']),
  code: CodeSpec,
  /** The exported function called once per record. @default "predict" */
  function: Identifier.default('predict'),
  /** Class labels (classification): a result's prediction must be one of them. */
  classes: z.array(z.string()).min(2).optional(),
  description: z.string().optional(),
});
export type CustomPredictionEndpointSpec = z.infer<typeof CustomPredictionEndpointSpec>;

export const FunctionResponse = z.object({
  response: z.unknown(),
  timing: z.object({ preProcessing: z.number(), wait: z.number(), execution: z.number(), functionInternal: z.number() }),
  apiContext: z.object({ serviceId: z.string(), endpointId: z.string(), serviceGeneration: z.string() }),
});
export type FunctionResponse = z.infer<typeof FunctionResponse>;
