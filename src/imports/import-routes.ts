import fs from "node:fs";
import type http from "node:http";
import type { HubRuntime } from "../runtime.ts";
import { HubError, isHubError } from "../errors.ts";
import { buildContext } from "../http/context.ts";
import { sendError, sendJson, type RouteHandler } from "../http/server.ts";
import { requireAccess } from "../partners/access-rules.ts";
import { acceptUpload, importFiles } from "./import-uploads.ts";

const STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, INTERNAL_SERVER_ERROR: 503 };

function authorize(runtime: HubRuntime, req: http.IncomingMessage, rule: string): void {
  const ctx = buildContext(runtime.services, req.headers.authorization, "");
  requireAccess(rule, ctx.principal, ctx.authFailure);
}

async function status(runtime: HubRuntime, id: string, res: http.ServerResponse): Promise<void> {
  const job = /^imp_[A-Za-z0-9_-]{12}$/.test(id) ? await runtime.queues.imports.getJob(id) : undefined;
  if (!job) throw new HubError("NOT_FOUND", `import ${id} does not exist`);
  const state = await job.getState();
  const rejectsFile = importFiles(runtime.config.dataDir, id, job.data.format).rejects;
  sendJson(res, 200, {
    id,
    state,
    progress: job.progress || null,
    summary: job.returnvalue ?? null,
    error: state === "failed" ? job.failedReason : null,
    rejectsUrl: fs.existsSync(rejectsFile) && fs.statSync(rejectsFile).size > 0 ? `/imports/${id}/rejects` : null,
  });
}

function rejects(runtime: HubRuntime, id: string, res: http.ServerResponse): void {
  const file = ["ndjson", "csv"].map((f) => importFiles(runtime.config.dataDir, id, f as "ndjson").rejects).find((f) => /^imp_[A-Za-z0-9_-]{12}$/.test(id) && fs.existsSync(f));
  if (!file) throw new HubError("NOT_FOUND", `import ${id} has no rejected rows`);
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  fs.createReadStream(file).pipe(res);
}

/**
 * Bulk import over HTTP for the issuer: POST /imports with the file as the body (NDJSON, or CSV
 * with `content-type: text/csv`), then follow GET /imports/<id> while the worker loads it.
 */
export function importRoutes(runtime: HubRuntime): Record<string, RouteHandler> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts = (req.url ?? "/").split("?")[0].split("/").filter(Boolean);
    try {
      if (req.method === "POST" && parts.length === 1) {
        authorize(runtime, req, "POST /imports");
        const accepted = await acceptUpload(req, runtime.config.dataDir, runtime.queues);
        sendJson(res, 202, { id: accepted.id, state: "waiting", statusUrl: `/imports/${accepted.id}` });
      } else if (req.method === "GET" && parts.length === 2) {
        authorize(runtime, req, "GET /imports");
        await status(runtime, parts[1], res);
      } else if (req.method === "GET" && parts.length === 3 && parts[2] === "rejects") {
        authorize(runtime, req, "GET /imports");
        rejects(runtime, parts[1], res);
      } else {
        throw new HubError("NOT_FOUND", "use POST /imports, GET /imports/<id> or GET /imports/<id>/rejects");
      }
    } catch (error) {
      if (!isHubError(error)) throw error;
      req.resume();
      sendError(res, STATUS[error.code] ?? 400, error.code, error.message);
    }
  };
  return { "/imports": handle, "/imports/*": handle };
}
