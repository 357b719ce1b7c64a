/** Per-request variables, typed through Hono's generic. */
export interface Vars {
  requestId: string;
  /** performance.now() when the request reached the app. */
  startedAt: number;
  /** Set once known, for metrics: the generation that answered, records scored, the error. */
  generation?: string;
  records?: number;
  errorType?: string;
}

export type AppEnv = { Variables: Vars };
