import type { ErrorType } from '@apinode/protocol';

/**
 * What the client reports without an answer from the node: UNREACHABLE (status 0) when the
 * call did not reach it, HTTP_<status> when something answered without the node's error body.
 */
export type ClientErrorType = 'UNREACHABLE' | `HTTP_${number}`;

/** What the node answered when a call failed: the DSS error body and the HTTP status. */
export class ApiNodeError extends Error {
  constructor(
    readonly status: number,
    /**
     * One of the node's ErrorTypes (`@apinode/protocol`), or the client's own. Typed open
     * (`string & {}` keeps the known names offered) so a newer node's types still come through.
     */
    readonly errorType: ErrorType | ClientErrorType | (string & Record<never, never>),
    message: string,
    readonly detailedMessage: string,
  ) {
    super(message);
    this.name = 'ApiNodeError';
  }
}
