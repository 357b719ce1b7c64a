import { z } from 'zod';

/** Service, endpoint and generation ids: what DSS accepts, and safe as object-store path segments. */
export const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "-" and "." (not first)');

/** A feature value as clients send it. Anything else (objects, arrays) makes the record unusable. */
export const FeatureValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export type FeatureValue = z.infer<typeof FeatureValue>;
