/**
 * Operations endpoints: health, readiness and Prometheus metrics. Health and readiness answer a
 * status only (no versions, errors or queue depths). /metrics shows traffic and register figures,
 * so it is served:
 * - with `OPS_PORT`: only on the operations listener (OPS_HOST:OPS_PORT), beside /livez, /healthz, /readyz;
 * - else with `METRICS_TOKEN`: on the api port;
 * - else in development and test: on the api port to loopback callers only; in production: not at all.
 * When `METRICS_TOKEN` is set, every /metrics answers only `Authorization: Bearer <token>` (401).
 */
import crypto from "node:crypto";
import http from "node:http";
import type { HubConfig } from "../config.ts";
import type { HubRuntime } from "../app/runtime.ts";
import { pingDatabase } from "../db/client.ts";
import { closeServer, listen, trackInFlight } from "../http/listen.ts";
import { sendError, sendFailure, sendJson, type RouteHandler } from "../http/respond.ts";

function databaseAnswers(runtime: HubRuntime): boolean {
  try {
    pingDatabase(runtime.services.db);
    return true;
  } catch {
    return false;
  }
}

/** How long /readyz waits for Redis's PONG: a Redis that hangs (a long command, CLIENT PAUSE) makes it not ready, not slow. */
const READY_REDIS_TIMEOUT_MS = 500;

/** Whether Redis answers PING within the bound; concurrent probes share one PING in flight. */
function redisProbe(runtime: HubRuntime): () => Promise<boolean> {
  let inFlight: Promise<boolean> | null = null;
  return () => {
    inFlight ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), READY_REDIS_TIMEOUT_MS);
      runtime.queues.connection.ping().then(
        () => resolve(true),
        () => resolve(false),
      ).finally(() => clearTimeout(timer));
    }).finally(() => (inFlight = null));
    return inFlight;
  };
}

/** The /readyz answer: 503 on any problem; codes only (src/health-checks.ts), never details. */
async function readiness(runtime: HubRuntime, redisAnswers: () => Promise<boolean>): Promise<{ status: number; body: Record<string, unknown> }> {
  const redisOk = await redisAnswers();
  const problems = runtime.health.codes("problem");
  if (!redisOk && !problems.includes("redis-unavailable")) problems.push("redis-unavailable");
  if (!databaseAnswers(runtime)) problems.unshift("database-unavailable");
  const warnings = runtime.health.codes("warning");
  const listed = { ...(problems.length > 0 ? { problems } : {}), ...(warnings.length > 0 ? { warnings } : {}) };
  return problems.length > 0 ? { status: 503, body: { status: "not ready", ...listed } } : { status: 200, body: { status: "ready", ...listed } };
}

/**
 * /livez and /healthz: the process answers (they touch neither Redis nor the database, so a
 * liveness probe never restarts a hub for its dependencies' trouble). /readyz: the database and
 * Redis answer (Redis within READY_REDIS_TIMEOUT_MS) and nothing reports a problem.
 */
export function healthRoutes(runtime: HubRuntime): Record<string, RouteHandler> {
  const alive: RouteHandler = (_req, res) => sendJson(res, 200, { status: "ok" });
  const redisAnswers = redisProbe(runtime);
  return {
    "/livez": alive,
    "/healthz": alive,
    "/readyz": async (_req, res) => {
      const { status, body } = await readiness(runtime, redisAnswers);
      sendJson(res, status, body);
    },
  };
}

const digest = (text: string) => crypto.createHash("sha256").update(text).digest();

function bearerMatches(req: http.IncomingMessage, token: string): boolean {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
  return !!match && crypto.timingSafeEqual(digest(match[1]), digest(token));
}

function isLoopback(req: http.IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? "";
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

/** /metrics behind the token, when one is configured. */
function guarded(metrics: RouteHandler, token: string | null): RouteHandler {
  if (!token) return metrics;
  return (req, res, requestId) => {
    if (bearerMatches(req, token)) return metrics(req, res, requestId);
    res.setHeader("www-authenticate", 'Bearer realm="fpr-hub metrics"');
    sendError(res, 401, "UNAUTHENTICATED", "metrics need Authorization: Bearer <METRICS_TOKEN>");
  };
}

/** The /metrics route of the api port, or none (see the rules above). */
export function apiMetricsRoute(config: HubConfig, metrics: RouteHandler): Record<string, RouteHandler> {
  if (config.ops.port !== null) return {};
  if (config.ops.metricsToken) return { "/metrics": guarded(metrics, config.ops.metricsToken) };
  if (config.isProduction) return {};
  return {
    "/metrics": (req, res, requestId) =>
      isLoopback(req) ? metrics(req, res, requestId) : sendError(res, 403, "FORBIDDEN", "metrics answer loopback callers only; set METRICS_TOKEN or OPS_PORT"),
  };
}

export interface OpsListener {
  url: string;
  close(): Promise<void>;
}

/** The operations listener on OPS_HOST:OPS_PORT, or null when OPS_PORT is not set. */
export async function startOpsListener(runtime: HubRuntime, metrics: RouteHandler): Promise<OpsListener | null> {
  const { port, host, metricsToken } = runtime.config.ops;
  if (port === null) return null;
  const routes: Record<string, RouteHandler> = { ...healthRoutes(runtime), "/metrics": guarded(metrics, metricsToken) };
  const server = trackInFlight(http.createServer((req, res) => {
    const requestId = crypto.randomUUID();
    const route = req.method === "GET" || req.method === "HEAD" ? routes[(req.url ?? "/").split("?")[0]] : undefined;
    if (!route) return sendError(res, 404, "NOT_FOUND", "the operations listener serves GET /metrics, /livez, /healthz and /readyz");
    Promise.resolve(route(req, res, requestId)).catch((error: unknown) => {
      if (!res.headersSent && sendFailure(res, error)) return;
      runtime.log({ level: "error", msg: "operations request failed", requestId, error: String(error) });
      if (!res.headersSent) sendError(res, 500, "INTERNAL_SERVER_ERROR", "internal error");
      else res.destroy();
    });
  }));
  const address = await listen(server, port, host, { port: "OPS_PORT", host: "OPS_HOST" });
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () => closeServer(server),
  };
}

/** A worker-only process (`fpr-hub worker`) serves its own metrics on OPS_PORT, when set. */
export async function startWorkerOps(runtime: HubRuntime): Promise<OpsListener | null> {
  if (runtime.config.ops.port === null) return null;
  runtime.metrics.watch(runtime);
  return startOpsListener(runtime, runtime.metrics.route());
}
