import type { ErrorStatus, ErrorType } from '@apinode/protocol';

export type { ErrorStatus, ErrorType } from '@apinode/protocol';

/**
 * The one error type of the node. Everything that reaches a client is an ApiError; anything
 * else is a bug and becomes a generic 500 (logged with the request id, never echoed).
 * `cause` (a third-party error: onnxruntime, QuickJS, a driver) is logged, never answered.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly errorType: ErrorType,
    message: string,
    readonly detailedMessage: string = message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  static badRequest(errorType: ErrorType, message: string, detail?: string): ApiError {
    return new ApiError(400, errorType, message, detail);
  }

  static notFound(errorType: ErrorType, message: string): ApiError {
    return new ApiError(404, errorType, message);
  }

  /** A dependency (object store, model runtime, database) is down: the client may retry. */
  static unavailable(errorType: ErrorType, message: string, detail?: string, options?: { cause?: unknown }): ApiError {
    return new ApiError(503, errorType, message, detail, options);
  }

  toBody(): { errorType: ErrorType; message: string; detailedMessage: string } {
    return { errorType: this.errorType, message: this.message, detailedMessage: this.detailedMessage };
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** Message of an unknown thrown value, for logs only. */
export function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Schema issues (zod's shape) as one line, for detailedMessage. */
export const formatIssues = (issues: readonly { path: PropertyKey[]; message: string }[]): string =>
  issues
    .slice(0, 10)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
