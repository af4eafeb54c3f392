import crypto from "node:crypto";
import http from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import type { HubServices } from "../app/services.ts";
import { buildContext, type HubContext } from "./context.ts";
import { trackInFlight } from "../http/listen.ts";
import { ANSWERED, parseBody, sendError, sendFailure, MAX_BODY_BYTES, type RouteHandler } from "../http/respond.ts";

/** 401 before the body is read; a body still arriving is discarded (or the connection dropped when over the limit). */
function refuseUnauthenticated(req: http.IncomingMessage, res: http.ServerResponse, authFailure: string | null): void {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) res.setHeader("connection", "close");
  else req.resume();
  res.setHeader("www-authenticate", 'Bearer realm="fpr-hub"');
  sendError(res, 401, "UNAUTHENTICATED", authFailure ?? "an API key is required: send Authorization: Bearer <secret>");
}

async function handleGraphQL(
  apollo: ApolloServer<HubContext>,
  services: HubServices,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  requestId: string,
): Promise<void> {
  // Authentication comes first: a request without a valid key costs a digest and one indexed read,
  // never the reading, parsing or validation of its document.
  const context = buildContext(services, req.headers.authorization, requestId);
  if (!context.principal) {
    refuseUnauthenticated(req, res, context.authFailure);
    return;
  }
  const body = await parseBody(req, res);
  if (body === ANSWERED) return;
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  const url = new URL(req.url ?? "/", "http://hub");
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body },
    context: async () => context,
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === "complete") {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

export interface HttpServerOptions {
  apollo: ApolloServer<HubContext>;
  services: HubServices;
  /** Extra routes by exact path (health, dashboard, metrics), or by prefix when the key ends in "/*". */
  routes: Record<string, RouteHandler>;
  log: (entry: Record<string, unknown>) => void;
}

/** The api's HTTP server: /graphql through Apollo, a few plain routes, JSON errors for the rest. */
export function createHttpServer(options: HttpServerOptions): http.Server {
  return trackInFlight(http.createServer((req, res) => {
    const requestId = crypto.randomUUID();
    res.setHeader("x-request-id", requestId);
    const path = (req.url ?? "/").split("?")[0];
    const started = performance.now();
    res.once("finish", () => {
      options.log({ level: "debug", msg: "request", requestId, method: req.method, path, status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    const route =
      path === "/graphql"
        ? (rq: http.IncomingMessage, rs: http.ServerResponse) => handleGraphQL(options.apollo, options.services, rq, rs, requestId)
        : findRoute(options.routes, path);
    if (!route) {
      sendError(res, 404, "NOT_FOUND", `no route ${path}; the API is at /graphql`);
      return;
    }
    Promise.resolve(route(req, res, requestId)).catch((error: unknown) => {
      if (!res.headersSent && sendFailure(res, error)) return;
      options.log({ level: "error", msg: "request failed", requestId, error: String(error) });
      if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error");
      else res.destroy();
    });
  }));
}

function findRoute(routes: Record<string, RouteHandler>, path: string): RouteHandler | undefined {
  if (routes[path]) return routes[path];
  const prefix = Object.keys(routes).find((key) => key.endsWith("/*") && path.startsWith(key.slice(0, -1)));
  return prefix ? routes[prefix] : undefined;
}

