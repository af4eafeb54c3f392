import fs from "node:fs";
import type http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { packagePath } from "../package-root.ts";
import { sendError, type RouteHandler } from "../http/respond.ts";

/**
 * Everything the page loads comes from the hub itself: no inline script or style, no CDN. The
 * sign-in form never submits (form-action 'none'), so a key can never end up in a URL.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface Asset {
  file: string;
  type: string;
  cacheControl: string;
}

const ASSETS_DIR = packagePath("src", "dashboard", "assets");
// chart.js exports no subpaths: find its main build, the UMD bundle sits beside it.
const CHART_UMD = path.join(path.dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.js");
const REVALIDATE = "no-cache";

const PAGE: Asset = { file: path.join(ASSETS_DIR, "index.html"), type: "text/html; charset=utf-8", cacheControl: REVALIDATE };

/** The only files served under /dashboard/: a whitelist by name, so no path can reach elsewhere. */
const JAVASCRIPT = "text/javascript; charset=utf-8";
const SCRIPTS = ["app.js", "hub-api.js", "dom.js", "tables.js", "chart-views.js", "check-view.js"];
const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ...SCRIPTS.map((name): [string, Asset] => [name, { file: path.join(ASSETS_DIR, name), type: JAVASCRIPT, cacheControl: REVALIDATE }]),
  ["app.css", { file: path.join(ASSETS_DIR, "app.css"), type: "text/css; charset=utf-8", cacheControl: REVALIDATE }],
  ["chart.js", { file: CHART_UMD, type: JAVASCRIPT, cacheControl: "public, max-age=86400" }],
]);

const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

function isReadMethod(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  res.setHeader("allow", "GET, HEAD");
  sendError(res, 405, "BAD_USER_INPUT", "the dashboard answers GET and HEAD only");
  return false;
}

function etagOf(stat: fs.Stats): string {
  return `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}

/** Streams one file from disk with its headers; 304 when the browser already holds this version. */
async function serveAsset(asset: Asset, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const stat = await fs.promises.stat(asset.file);
  const etag = etagOf(stat);
  const headers = { ...SECURITY_HEADERS, "content-type": asset.type, "cache-control": asset.cacheControl, etag, "last-modified": stat.mtime.toUTCString() };
  if (req.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": stat.size });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = fs.createReadStream(asset.file);
    stream.on("error", () => res.destroy());
    res.on("close", () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** GET /dashboard (the page) and GET /dashboard/<asset> (its script, style sheet and Chart.js). */
export function dashboardRoutes(): Record<string, RouteHandler> {
  const page: RouteHandler = async (req, res) => {
    if (isReadMethod(req, res)) await serveAsset(PAGE, req, res);
  };
  const asset: RouteHandler = async (req, res) => {
    if (!isReadMethod(req, res)) return;
    const name = (req.url ?? "/").split("?")[0].slice("/dashboard/".length);
    if (name === "") {
      res.writeHead(308, { location: "/dashboard" });
      res.end();
      return;
    }
    const found = ASSETS.get(name);
    if (!found) {
      sendError(res, 404, "NOT_FOUND", "no such dashboard asset; the dashboard is at /dashboard");
      return;
    }
    await serveAsset(found, req, res);
  };
  return { "/dashboard": page, "/dashboard/*": asset };
}
