/** What the node answered when a call failed: the DSS error body and the HTTP status. */
export class ApiNodeError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly detailedMessage: string,
  ) {
    super(message);
    this.name = 'ApiNodeError';
  }
}
