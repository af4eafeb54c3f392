/**
 * The hub's one error type. Services throw `HubError(code, message)`; `src/api/error-mapping.ts`
 * is the only place that turns it into a GraphQL error. Messages are shown to callers, so they
 * must never contain secrets, names, SQL or stack traces.
 */
export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "INVALID_CARD_NUMBER",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "QUERY_TOO_COMPLEX",
  /** Storage is briefly unable to write (disk full, database busy): retry after `extensions.retryAfterMs`. */
  "SERVICE_UNAVAILABLE",
  "INTERNAL_SERVER_ERROR",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class HubError extends Error {
  override readonly name = "HubError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for `extensions`: must be safe to show to the caller. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isHubError(error: unknown): error is HubError {
  return error instanceof HubError;
}
