import fs from "node:fs";
import type http from "node:http";
import { pipeline } from "node:stream/promises";
import type { HubQueues } from "../../jobs/queues.ts";
import type { HubContext } from "../api/context.ts";
import type { HubConfig } from "../config.ts";
import { HubError, type ErrorCode } from "../errors.ts";
import { HTTP_STATUS, restErrorOf } from "../http/error-status.ts";
import { sendFailure, sendJson, type RouteHandler } from "../http/respond.ts";
import { requireAccess } from "../partners/access-rules.ts";
import type { Principal } from "../partners/roles.ts";
import { isImportId, rejectsFileOf } from "./import-files.ts";
import { shownFailure } from "./import-failures.ts";
import { ImportQuota } from "./import-quota.ts";
import { acceptUpload, UploadRefusal } from "./import-uploads.ts";

/** The shared mapping; an internal refusal here is the queue being out of reach (503). */
const STATUS: Record<ErrorCode, number> = { ...HTTP_STATUS, INTERNAL_SERVER_ERROR: 503 };

/** What the api hands the import routes (api/start-api.ts). */
export interface ImportRouteDeps {
  /** The caller of a request, as the api's request context resolves its Authorization header. */
  callerOf(authorization: string | undefined): Pick<HubContext, "principal" | "authFailure">;
  queues: HubQueues;
  dataDir: string;
  settings: HubConfig["imports"];
}

function authorize(deps: ImportRouteDeps, req: http.IncomingMessage, rule: string): Principal {
  const caller = deps.callerOf(req.headers.authorization);
  return requireAccess(rule, caller.principal, caller.authFailure);
}

/** State and counts only: the failure reason is one of the fixed sentences, never the parser's text. */
async function status(deps: ImportRouteDeps, id: string, res: http.ServerResponse): Promise<void> {
  const job = isImportId(id) ? await deps.queues.imports.getJob(id) : undefined;
  if (!job) throw new HubError("NOT_FOUND", "no such import");
  const state = await job.getState();
  sendJson(res, 200, {
    id,
    state,
    progress: job.progress || null,
    summary: job.returnvalue ?? null,
    error: state === "failed" ? shownFailure(job.failedReason) : null,
    rejectsUrl: rejectsFileOf(deps.dataDir, id) ? `/imports/${id}/rejects` : null,
  });
}

async function rejects(deps: ImportRouteDeps, id: string, res: http.ServerResponse): Promise<void> {
  const file = rejectsFileOf(deps.dataDir, id);
  if (!file) throw new HubError("NOT_FOUND", "this import has no rejected rows");
  res.writeHead(200, { "content-type": "application/x-ndjson", "x-content-type-options": "nosniff", "cache-control": "no-store" });
  // pipeline closes the file when the caller hangs up, and turns a read error into a closed response.
  await pipeline(fs.createReadStream(file), res).catch(() => res.destroy());
}

/**
 * Bulk import over HTTP for the issuer: POST /imports with the file as the body (NDJSON, or CSV
 * with `content-type: text/csv`), then follow GET /imports/<id> while the worker loads it. Only an
 * ISSUER key uploads (it writes the register); ISSUER and ADMIN keys read the state and rejects,
 * which hold counts, line numbers and codes only.
 */
export function importRoutes(deps: ImportRouteDeps): Record<string, RouteHandler> {
  const limits = { maxUploadBytes: deps.settings.maxUploadBytes, quota: new ImportQuota(deps.queues, deps.settings.maxPerKey) };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts = (req.url ?? "/").split("?")[0].split("/").filter(Boolean);
    try {
      if (req.method === "POST" && parts.length === 1) {
        const issuer = authorize(deps, req, "POST /imports");
        const accepted = await acceptUpload(req, deps.dataDir, deps.queues, issuer, limits);
        sendJson(res, 202, { id: accepted.id, state: "waiting", statusUrl: `/imports/${accepted.id}` });
      } else if (req.method === "GET" && parts.length === 2) {
        authorize(deps, req, "GET /imports");
        await status(deps, parts[1], res);
      } else if (req.method === "GET" && parts.length === 3 && parts[2] === "rejects") {
        authorize(deps, req, "GET /imports");
        await rejects(deps, parts[1], res);
      } else {
        throw new HubError("NOT_FOUND", "use POST /imports, GET /imports/<id> or GET /imports/<id>/rejects");
      }
    } catch (error) {
      const failure = restErrorOf(error);
      if (!failure) throw error;
      if (!req.complete) res.setHeader("connection", "close");
      req.resume();
      sendFailure(res, failure, (code) => (failure instanceof UploadRefusal ? failure.status : STATUS[code]));
    }
  };
  return { "/imports": handle, "/imports/*": handle };
}
