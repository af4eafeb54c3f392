import { ApolloServer, type ApolloServerPlugin, type GraphQLRequestListener } from "@apollo/server";
import type { GraphQLSchema } from "graphql";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginUsageReportingDisabled } from "@apollo/server/plugin/disabled";
import type { HubContext } from "./context.ts";
import { formatHubError, hubErrorFormatter, unavailableHttpOf } from "./error-mapping.ts";
import { checkQueryLimits, QUERY_LIMITS } from "./query-limits.ts";
import { buildHubSchema } from "./schema.ts";

import type { Logger } from "../app/logger.ts";

/**
 * The hub's one plugin: refuses over-costly operations before they run, and logs unexpected errors
 * with the request id the caller also receives (callers see a masked error). Its hooks are built
 * once: Apollo awaits every hook of every plugin on every request.
 */
function hubPlugin(schema: GraphQLSchema, log: Logger): ApolloServerPlugin<HubContext> {
  const hooks: GraphQLRequestListener<HubContext> = {
    async didResolveOperation({ document, operation, request }) {
      if (operation) checkQueryLimits(schema, document, operation, request.variables ?? {});
    },
    async willSendResponse({ response, contextValue }) {
      // The caller gets the request id in masked errors too, to quote when reporting them.
      if (response.body.kind !== "single" || !response.body.singleResult.errors) return;
      const { errors, data } = response.body.singleResult;
      for (const error of errors) {
        if (error.extensions?.code === "INTERNAL_SERVER_ERROR") (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
      }
      // Storage briefly unavailable: say when to retry (and 503 when nothing was answered).
      const unavailable = unavailableHttpOf(errors, data !== null && data !== undefined);
      if (unavailable) {
        response.http.headers.set("retry-after", unavailable.retryAfter);
        if (unavailable.status) response.http.status = unavailable.status;
      }
    },
    async didEncounterErrors({ errors, contextValue }) {
      for (const error of errors) {
        const shown = formatHubError({ message: error.message, extensions: error.extensions }, error);
        if (shown.extensions?.code !== "INTERNAL_SERVER_ERROR") continue;
        const cause = error.originalError ?? error;
        log({ level: "error", msg: "internal error", requestId: contextValue.requestId, error: String(cause), stack: cause.stack });
      }
    },
  };
  return { requestDidStart: async () => hooks };
}

export async function createApollo(options: { isProduction: boolean; log: Logger }): Promise<ApolloServer<HubContext>> {
  const schema = buildHubSchema();
  const server = new ApolloServer<HubContext>({
    schema,
    introspection: !options.isProduction,
    formatError: hubErrorFormatter({ hideSchemaDetails: options.isProduction }),
    includeStacktraceInErrorResponses: false,
    // Apollo's own SIGTERM/SIGINT handlers stop it and re-raise the signal (exit 143 at once, the
    // Redis child left running): the hub's shutdown (src/cli/shutdown.ts) stops Apollo itself.
    stopOnTerminationSignals: false,
    // The parser stops at the length and token limits, which bound validation and every walk after it.
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens, maxSourceLength: QUERY_LIMITS.maxSourceLength },
    // Cache-control hooks every field; the hub sets no cache hints, so it is pure overhead.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      hubPlugin(schema, options.log),
    ],
  });
  await server.start();
  return server;
}
