import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginUsageReportingDisabled } from "@apollo/server/plugin/disabled";
import type { HubContext } from "./context.ts";
import { formatHubError } from "./error-mapping.ts";
import { queryLimitsPlugin } from "./query-limits.ts";
import { buildHubSchema } from "./schema.ts";

import type { Logger } from "./logger.ts";

/** Logs unexpected errors with the request id the caller also receives; callers see a masked error. */
function errorLogPlugin(log: Logger): ApolloServerPlugin<HubContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          // The caller gets the request id in masked errors too, to quote when reporting them.
          if (response.body.kind !== "single") return;
          for (const error of response.body.singleResult.errors ?? []) {
            if (error.extensions?.code === "INTERNAL_SERVER_ERROR") (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
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
    },
  };
}

export async function createApollo(options: { isProduction: boolean; log: Logger }): Promise<ApolloServer<HubContext>> {
  const schema = buildHubSchema();
  const server = new ApolloServer<HubContext>({
    schema,
    introspection: !options.isProduction,
    formatError: formatHubError,
    includeStacktraceInErrorResponses: false,
    // Cache-control hooks every field; the hub sets no cache hints, so it is pure overhead.
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      errorLogPlugin(options.log),
      queryLimitsPlugin(schema),
    ],
  });
  await server.start();
  return server;
}
