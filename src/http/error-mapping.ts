import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { ERROR_CODES, isHubError, type ErrorCode } from "../errors.ts";

/** Apollo's own request-level codes that mean "your request is wrong". */
const CALLER_MISTAKES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

/** graphql-js refusals of documents too large to parse or validate: the caller's mistake, told as such. */
const TOO_LARGE = /^Syntax Error: (Document contains more tha[nt] \d+ tokens|Source contains more than \d+ UTF-16 code units)\. Parsing aborted\.$|^Validation aborted\.$|^Too many validation errors, error limit reached\. Validation aborted\.$/;

export const INTERNAL_MESSAGE = "internal error: the hub could not answer; quote the x-request-id header when reporting it";

/**
 * The one place errors become GraphQL errors: every error carries an extensions.code from the
 * closed set; anything unexpected is masked (no stack trace, no SQL) and reported as internal.
 */
export function formatHubError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (isHubError(original)) {
    return { message: original.message, ...where, extensions: { ...original.extensions, code: original.code } };
  }
  const code = String(formatted.extensions?.code ?? "");
  if (CALLER_MISTAKES.has(code) && TOO_LARGE.test(formatted.message)) {
    return { message: formatted.message, ...where, extensions: { code: "QUERY_TOO_COMPLEX" satisfies ErrorCode } };
  }
  if (CALLER_MISTAKES.has(code)) {
    return { message: formatted.message, ...where, extensions: { code: "BAD_USER_INPUT" satisfies ErrorCode } };
  }
  if ((ERROR_CODES as readonly string[]).includes(code) && code !== "INTERNAL_SERVER_ERROR") {
    return { message: formatted.message, ...where, extensions: { code } };
  }
  return { message: INTERNAL_MESSAGE, ...where, extensions: { code: "INTERNAL_SERVER_ERROR" satisfies ErrorCode } };
}
