import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { ConfigError } from "../config.ts";
import type { HubServices } from "../hub-services.ts";
import { buildContext, type HubContext } from "./context.ts";
import { HTTP_STATUS, restErrorOf, retryAfterHeader } from "./error-mapping.ts";

export const MAX_BODY_BYTES = 1024 * 1024;

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string) => Promise<void> | void;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/**
 * A route's answer for what it threw: a HubError (or a transient storage error, as
 * SERVICE_UNAVAILABLE with Retry-After) by its code's status; false for anything else, which the
 * caller logs and answers as internal.
 */
function sendFailure(res: http.ServerResponse, error: unknown, statusOf: (code: keyof typeof HTTP_STATUS) => number = (code) => HTTP_STATUS[code]): boolean {
  const failure = restErrorOf(error);
  if (!failure) return false;
  const retryAfter = retryAfterHeader(failure.extensions);
  if (retryAfter) res.setHeader("retry-after", retryAfter);
  const extensions = { ...failure.extensions, code: failure.code };
  sendJson(res, statusOf(failure.code), { errors: [{ message: failure.message, extensions }] });
  return true;
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop buffering but let the upload drain, so the 413 answer reaches the caller.
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** parseBody's answer when it has already answered the request (a body of `null` is a body). */
const ANSWERED = Symbol("answered");

async function parseBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
  if (req.method !== "POST") return undefined;
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      res.setHeader("connection", "close");
      sendError(res, 413, "BAD_USER_INPUT", `request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    else res.destroy();
    return ANSWERED;
  }
  if (!(req.headers["content-type"] ?? "").includes("json")) return text;
  try {
    return text === "" ? {} : JSON.parse(text);
  } catch {
    sendError(res, 400, "BAD_USER_INPUT", "request body is not valid JSON");
    return ANSWERED;
  }
}

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

/** Why the server could not listen, as a one-line reason naming the settings (`names`: PORT and HOST, or OPS_PORT and OPS_HOST). */
function listenError(error: NodeJS.ErrnoException, port: number, host: string, names: { port: string; host: string }): Error {
  const at = `${host}:${port}`;
  switch (error.code) {
    case "EADDRINUSE":
      return new ConfigError(`${names.port} ${port} is already in use on ${host} (another fpr-hub, or another program, listens at ${at}): stop it or choose another ${names.port}`);
    case "EACCES":
      return new ConfigError(`${names.port} ${port} needs privileges this user lacks (ports below 1024 do): choose ${names.port} 1024 or above, or put a proxy in front`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(`${names.host} "${host}" is not a name this machine can resolve (${error.code}): set ${names.host} to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`);
    case "EADDRNOTAVAIL":
      return new ConfigError(`${names.host} ${host} is not an address of this machine (EADDRNOTAVAIL): set ${names.host} to one of its addresses, e.g. 127.0.0.1 or 0.0.0.0`);
    default:
      return error;
  }
}

export function listen(server: http.Server, port: number, host: string, names = { port: "PORT", host: "HOST" }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => reject(listenError(error, port, host, names));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Responses being written, per server (see trackInFlight). */
const inFlight = new WeakMap<http.Server, Set<http.ServerResponse>>();

/** Keeps count of the server's responses in flight, so closeServer can end their connections after them. */
export function trackInFlight(server: http.Server): http.Server {
  const responses = new Set<http.ServerResponse>();
  inFlight.set(server, responses);
  server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => {
    responses.add(res);
    res.once("close", () => responses.delete(res));
  });
  return server;
}

/**
 * Stops accepting connections and resolves once every open one has closed: requests in flight are
 * answered (with `Connection: close` where the headers are not yet sent), idle keep-alive
 * connections are closed at once and again as they fall idle (Node's close() alone would wait out
 * keepAliveTimeout on each).
 */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    for (const res of inFlight.get(server) ?? []) if (!res.headersSent) res.setHeader("connection", "close");
    server.prependListener("request", (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader("connection", "close"));
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/** How many connections the server has open. */
export function openConnections(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}

export { sendError, sendFailure, sendJson };
