import { storageTroubleOf, storageUnavailable } from "../db/storage-errors.ts";
import { isHubError, type ErrorCode, type HubError } from "../errors.ts";

/** The one error-code -> HTTP status mapping, read by the REST routes and by the GraphQL answer's HTTP side. */
/** The HTTP status of each code, for the plain REST routes (GraphQL answers 200 unless it has no data, see below). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  INVALID_CARD_NUMBER: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  QUERY_TOO_COMPLEX: 400,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** `Retry-After` (whole seconds, at least 1) for an error's `extensions.retryAfterMs`, or null. */
export function retryAfterHeader(extensions: Record<string, unknown> | undefined): string | null {
  const ms = extensions?.retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? String(Math.max(1, Math.ceil(ms / 1000))) : null;
}

/**
 * A REST route's HubError for what it caught: a HubError as it is, a transient storage error as
 * SERVICE_UNAVAILABLE, null for anything else (the route answers 500 and logs it).
 */
export function restErrorOf(error: unknown): HubError | null {
  if (isHubError(error)) return error;
  const trouble = storageTroubleOf(error);
  return trouble ? storageUnavailable(trouble) : null;
}
