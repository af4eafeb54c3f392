import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { storageTroubleOf, storageUnavailable } from "../db/storage-errors.ts";
import { ERROR_CODES, isHubError, type ErrorCode } from "../errors.ts";
import { HTTP_STATUS, retryAfterHeader } from "../http/error-status.ts";

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

const INTERNAL_MESSAGE = "internal error: the hub could not answer; quote the x-request-id header when reporting it";

export interface ErrorMappingOptions {
  /** Production: messages lose graphql-js's "Did you mean ...?" suggestions (schema details). */
  hideSchemaDetails?: boolean;
}

/**
 * A GraphQL error raised by the request pipeline itself (graphql-js or Apollo judging the request:
 * a persisted-query hash that does not match, too many variable errors) rather than thrown by our
 * code: it wraps no other error and belongs to no field. Apollo leaves some of these without a
 * code, which would read as internal. (Apollo turns a thrown non-Error into such an error too,
 * "Unexpected error value: ...": that one stays internal.)
 */
function isRequestMistake(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== "GraphQLError") return false;
  const graphqlError = error as Error & { originalError?: unknown; path?: unknown };
  return graphqlError.originalError == null && graphqlError.path == null && !error.message.startsWith("Unexpected error value");
}

/** graphql-js's parser limits (maxTokens, maxSourceLength, comments) end their messages so. */
const PARSER_LIMIT = /Parsing aborted\.$/;
/** graphql-js gave up validating a document too large to check (overlapping fields, too many errors). */
const VALIDATION_ABORTED = /Validation aborted\.$/;

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function callerMessage(message: string, options: ErrorMappingOptions): string {
  return options.hideSchemaDetails ? message.replace(SUGGESTION, "") : message;
}

/**
 * The one place errors become GraphQL errors: every error carries an extensions.code from the
 * closed set; anything unexpected is masked (no stack trace, no SQL) and reported as internal.
 */
export function formatHubError(formatted: GraphQLFormattedError, error: unknown, options: ErrorMappingOptions = {}): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (isHubError(original)) {
    return { message: original.message, ...where, extensions: { ...original.extensions, code: original.code } };
  }
  // Disk full, database busy: the caller may retry (the message names the trouble, never the SQL).
  const trouble = storageTroubleOf(error);
  if (trouble) {
    const unavailable = storageUnavailable(trouble);
    return { message: unavailable.message, ...where, extensions: { ...unavailable.extensions, code: unavailable.code } };
  }
  const code = String(formatted.extensions?.code ?? "");
  if ((code === "GRAPHQL_PARSE_FAILED" && PARSER_LIMIT.test(formatted.message)) || (code === "GRAPHQL_VALIDATION_FAILED" && VALIDATION_ABORTED.test(formatted.message))) {
    return { message: formatted.message, ...where, extensions: { code: "QUERY_TOO_COMPLEX" satisfies ErrorCode } };
  }
  if (CALLER_MISTAKES.has(code)) {
    return { message: callerMessage(formatted.message, options), ...where, extensions: { code: "BAD_USER_INPUT" satisfies ErrorCode } };
  }
  if ((ERROR_CODES as readonly string[]).includes(code) && code !== "INTERNAL_SERVER_ERROR") {
    return { message: callerMessage(formatted.message, options), ...where, extensions: { code } };
  }
  if (isRequestMistake(error)) {
    return { message: callerMessage(formatted.message, options), ...where, extensions: { code: "BAD_USER_INPUT" satisfies ErrorCode } };
  }
  return { message: INTERNAL_MESSAGE, ...where, extensions: { code: "INTERNAL_SERVER_ERROR" satisfies ErrorCode } };
}

/** formatHubError bound to the deployment's options, for Apollo's formatError. */
export function hubErrorFormatter(options: ErrorMappingOptions): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => formatHubError(formatted, error, options);
}

/**
 * The HTTP side of a GraphQL answer whose errors include SERVICE_UNAVAILABLE: a Retry-After
 * header, and 503 when the operation produced no data at all (a failed mutation); an answer with
 * partial data stays 200, as GraphQL over HTTP wants.
 */
export function unavailableHttpOf(errors: readonly GraphQLFormattedError[], hasData: boolean): { status: number | null; retryAfter: string } | null {
  const unavailable = errors.filter((error) => error.extensions?.code === ("SERVICE_UNAVAILABLE" satisfies ErrorCode));
  if (unavailable.length === 0) return null;
  const seconds = Math.max(...unavailable.map((error) => Number(retryAfterHeader(error.extensions) ?? 1)));
  return { status: hasData ? null : HTTP_STATUS.SERVICE_UNAVAILABLE, retryAfter: String(seconds) };
}
