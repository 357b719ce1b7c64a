import { z } from 'zod';
import { Id } from './common.js';
import { Mapping } from './service.js';

/**
 * Guarded rollouts (docs/rollouts.md): a new generation takes a growing share of a service's
 * traffic, step by step, and the node rolls back to the mapping it started from by itself when
 * the new generation's own error rate or p99 latency crosses a threshold.
 */

/** POST /admin/api/services/{id}/rollout */
export const RolloutStartRequest = z
  .object({
    /** The generation to roll out: committed, and not already all of the mapping. */
    generation: Id,
    /** Percentages of traffic the new generation gets, step by step, strictly increasing, the last 100. */
    steps: z.array(z.number().gt(0).max(100)).min(1).max(20),
    /** How long each step is watched before the next one, in seconds (10 s to 7 days). */
    everyS: z.number().int().min(10).max(7 * 86_400),
    /** Largest share of the new generation's requests that may fail with a 5xx, 0..1 (0.01 is 1%). */
    maxErrorRate: z.number().min(0).max(1),
    /**
     * Largest p99 latency of the new generation, in milliseconds, at most 5000 (the latency
     * histogram's largest bound). Best set at a bound (…, 100, 250, 500, …): between two, the
     * estimate is interpolated within the bucket. @default - latency is not judged
     */
    maxP99Ms: z.number().positive().max(5000).optional(),
    /** Requests the new generation must have answered in a step before it is judged at all. @default 20 */
    minRequests: z.number().int().min(1).max(1_000_000).default(20),
  })
  .refine((r) => r.steps.every((s, i) => i === 0 || s > r.steps[i - 1]!), { message: 'steps must be strictly increasing', path: ['steps'] })
  .refine((r) => r.steps.at(-1) === 100, { message: 'the last step must be 100 (all traffic on the new generation)', path: ['steps'] });
export type RolloutStartRequest = z.input<typeof RolloutStartRequest>;
/** A start request as the node holds it once checked (minRequests filled in). */
export type RolloutStart = z.output<typeof RolloutStartRequest>;

/** What the new generation did in a step: summed over every instance's metric windows. */
export const RolloutFigures = z.object({
  /** The window judged: from the step's start (rounded down to its minute) to the check. */
  from: z.string(),
  to: z.string(),
  requests: z.number().int(),
  serverErrors: z.number().int(),
  clientErrors: z.number().int(),
  /** serverErrors / requests; null without requests. */
  errorRate: z.number().nullable(),
  /** Estimated from the latency histogram (interpolated in its bucket); null without requests or above the largest bound. */
  p99Ms: z.number().nullable(),
  /** Instance windows summed. */
  windows: z.number().int(),
});
export type RolloutFigures = z.infer<typeof RolloutFigures>;

export const RolloutPhase = z.enum(['running', 'completed', 'rolled-back', 'aborted']);
export type RolloutPhase = z.infer<typeof RolloutPhase>;

export const RolloutEvent = z.object({
  at: z.string(),
  action: z.enum(['start', 'advance', 'complete', 'rollback', 'promote', 'abort']),
  /** The new generation's share after the event, in percent. */
  percent: z.number(),
  reason: z.string().optional(),
  figures: RolloutFigures.optional(),
  /** Who: an admin key's label, or "scheduler". */
  by: z.string().optional(),
});
export type RolloutEvent = z.infer<typeof RolloutEvent>;

/** services/{id}/rollout.json: written only If-Match the copy read, so racing controllers never corrupt it. */
export const RolloutState = z.object({
  serviceId: Id,
  generation: Id,
  phase: RolloutPhase,
  steps: z.array(z.number()),
  everyS: z.number(),
  maxErrorRate: z.number(),
  maxP99Ms: z.number().optional(),
  minRequests: z.number().int(),
  /** The mapping before the rollout: what a rollback or an abort restores. */
  previous: Mapping,
  /** Index in steps of the current step. */
  step: z.number().int().min(0),
  startedAt: z.string(),
  stepStartedAt: z.string(),
  updatedAt: z.string(),
  /** Incremented by every write: tells a controller whether what it applied is still the latest decision. */
  revision: z.number().int().min(1),
  /** Whether the mapping this state asks for has been written to service.json. */
  mappingApplied: z.boolean(),
  /** Why it ended, when it rolled back or was aborted. */
  reason: z.string().optional(),
  history: z.array(RolloutEvent).max(200),
});
export type RolloutState = z.infer<typeof RolloutState>;

/** GET /admin/api/services/{id}/rollout: the state, the mapping it asks for, and the current step's figures so far. */
export const RolloutStatus = z.object({
  rollout: RolloutState,
  /** The new generation's share now, in percent. */
  percent: z.number(),
  mapping: Mapping,
  /** The current step's figures so far (running only). */
  current: RolloutFigures.nullable(),
  /** When the next step is due, if its figures stay within the thresholds (running only). */
  nextStepAt: z.string().nullable(),
});
export type RolloutStatus = z.infer<typeof RolloutStatus>;

/**
 * One instance's figures for one generation and one minute (metrics/service={s}/generation={g}/
 * minute=YYYY-MM-DDTHH:MM/{instance}.json): overwritten by that instance while the minute fills,
 * summed across instances by the rollout controller.
 */
export const MetricWindow = z.object({
  requests: z.number().int().min(0),
  serverErrors: z.number().int().min(0),
  clientErrors: z.number().int().min(0),
  /** Upper bounds of the latency buckets in ms; counts has one more entry, for above the last bound. */
  boundsMs: z.array(z.number()).max(64),
  counts: z.array(z.number().int().min(0)).max(65),
});
export type MetricWindow = z.infer<typeof MetricWindow>;
