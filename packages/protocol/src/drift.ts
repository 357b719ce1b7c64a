import { z } from 'zod';

/**
 * The drift report (docs/drift.md): per feature, the production distribution read from the stored
 * query log against the reference distribution the generation carries (its explanation background).
 * Answered by GET /admin/api/services/{id}/endpoints/{e}/drift, shared by the node, client and CLI.
 */

/** PSI conventions: below 0.1 no significant change, 0.1 to 0.25 moderate, 0.25 and above significant. */
export const DRIFT_THRESHOLDS = { moderate: 0.1, significant: 0.25 } as const;

export const DriftLevel = z.enum(['NONE', 'MODERATE', 'SIGNIFICANT']);
export type DriftLevel = z.infer<typeof DriftLevel>;

export const driftLevel = (psi: number): DriftLevel => (psi >= DRIFT_THRESHOLDS.significant ? 'SIGNIFICANT' : psi >= DRIFT_THRESHOLDS.moderate ? 'MODERATE' : 'NONE');

/** One bin of a histogram: its label and the share (0..1) of each side's records in it. */
export const DriftBin = z.object({
  label: z.string(),
  reference: z.number(),
  production: z.number(),
});
export type DriftBin = z.infer<typeof DriftBin>;

export const FeatureDrift = z.object({
  name: z.string(),
  kind: z.enum(['NUMERIC', 'CATEGORY']),
  /** Population stability index over `bins` (empty bins count as DRIFT_EPSILON). */
  psi: z.number(),
  /** NUMERIC: two-sample Kolmogorov-Smirnov statistic, production values against the background rows' (missing values left out). */
  ks: z.number().nullable(),
  level: DriftLevel,
  /**
   * Where the reference shares come from: STATISTICS, the generation's feature statistics over the
   * whole training set (deciles, category counts); ROWS, its background rows (a sample).
   */
  referenceSource: z.enum(['STATISTICS', 'ROWS']),
  bins: z.array(DriftBin),
  counts: z.object({
    production: z.number().int(),
    productionMissing: z.number().int(),
    reference: z.number().int(),
    referenceMissing: z.number().int(),
  }),
});
export type FeatureDrift = z.infer<typeof FeatureDrift>;

/** What the model answered in production: class shares, or a histogram of the predicted value. */
export const PredictionDistribution = z.object({
  kind: z.enum(['NUMERIC', 'CATEGORY']),
  /** Records with a prediction (ignored records left out). */
  count: z.number().int(),
  bins: z.array(z.object({ label: z.string(), production: z.number() })),
});
export type PredictionDistribution = z.infer<typeof PredictionDistribution>;

export const DriftReport = z.object({
  serviceId: z.string(),
  endpointId: z.string(),
  /** The generation whose reference the production is compared with; null when the window holds no record. */
  generation: z.string().nullable(),
  /** The generation the production records were restricted to (?generation=), or null for all. */
  generationFilter: z.string().nullable(),
  window: z.object({ since: z.string(), until: z.string() }),
  records: z.object({
    /** Scored records in the window (status ok). */
    total: z.number().int(),
    /** Of them, compared: all of them, or a uniform sample of DRIFT_MAX_RECORDS. */
    compared: z.number().int(),
    byGeneration: z.record(z.string(), z.number().int()),
    /** Records the endpoint answered {ignored: true}: compared all the same (their features are what production sent). */
    ignored: z.number().int(),
    /** Error lines (failed requests) in the window. */
    errors: z.number().int(),
    /** Records whose features were not logged (too large, truncated): not compared. */
    withoutFeatures: z.number().int(),
  }),
  /** What reading the log went through: objects read, lines and objects that could not be read. */
  read: z.object({ objects: z.number().int(), skippedLines: z.number().int(), unreadableObjects: z.number().int() }),
  thresholds: z.object({ moderate: z.number(), significant: z.number() }),
  /** Sorted by drift: PSI, highest first (then KS, then name). */
  features: z.array(FeatureDrift),
  prediction: PredictionDistribution.nullable(),
});
export type DriftReport = z.infer<typeof DriftReport>;

/** Shares under this count as it in the PSI, so an empty bin on either side gives a large but finite term. */
export const DRIFT_EPSILON = 1e-4;
/** Records compared at most: beyond it, a uniform sample of them (reservoir sampling). */
export const DRIFT_MAX_RECORDS = 100_000;
/** The longest window a report reads. */
export const DRIFT_MAX_WINDOW_MS = 31 * 24 * 3_600_000;

const DURATION = /^(\d{1,6})(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `since` as the API and the CLI take it: a duration back from now ("90m", "24h", "7d") or an
 * ISO 8601 date-time with its offset. Null when it is neither.
 */
export function parseSince(since: string, now: Date): Date | null {
  const d = DURATION.exec(since);
  if (d) return new Date(now.getTime() - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS]);
  if (!z.iso.datetime({ offset: true }).safeParse(since).success) return null;
  return new Date(since);
}
