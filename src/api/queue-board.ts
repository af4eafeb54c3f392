import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express from "express";
import type { HubRuntime } from "../app/runtime.ts";
import { requireAccess } from "../partners/access-rules.ts";
import { isHubError } from "../errors.ts";
import type { RouteHandler } from "../http/respond.ts";

const BOARD_PATH = "/admin/queues";

/** The API key from `Authorization: Bearer <key>`, or the password of Basic auth (so a browser can sign in). */
function keyFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1) || undefined;
}

/** Only reads reach the board: no retry, promote, clean, add, pause or edit, whatever the route. */
const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * Bull Board for operators, behind ADMIN keys: queue depths, jobs and failures, read-only. Every
 * queue of the registry (jobs/queues.ts) is shown, each in bull-board's read-only mode (no
 * retries either), and any method but GET and HEAD is refused here before bull-board sees it, so
 * a route a future version adds cannot write.
 */
export function queueBoardRoutes(runtime: HubRuntime): Record<string, RouteHandler> {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(BOARD_PATH);
  createBullBoard({ queues: runtime.queues.all.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })), serverAdapter: adapter, options: { uiConfig: { boardTitle: "fpr-hub queues" } } });
  const app = express();
  app.disable("x-powered-by");
  app.use(BOARD_PATH, adapter.getRouter());
  const handle: RouteHandler = (req, res) => {
    const secret = keyFrom(req.headers.authorization);
    const principal = secret ? runtime.services.apiKeys.authenticate(secret) : null;
    try {
      requireAccess("queueBoard", principal, principal ? null : "an ADMIN key is required");
    } catch (error) {
      if (!isHubError(error)) throw error;
      res.writeHead(error.code === "UNAUTHENTICATED" ? 401 : 403, {
        "www-authenticate": 'Basic realm="fpr-hub queues (user: admin, password: an ADMIN API key)"',
        "content-type": "text/plain; charset=utf-8",
      });
      res.end(`${error.message}\n`);
      return;
    }
    if (!READ_METHODS.has(req.method ?? "")) {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("the queue board is read-only\n");
      return;
    }
    app(req as express.Request, res as express.Response);
  };
  return { [BOARD_PATH]: handle, [`${BOARD_PATH}/*`]: handle };
}
