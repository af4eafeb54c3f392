import type http from "node:http";
import { HTTP_STATUS, restErrorOf, retryAfterHeader } from "./error-status.ts";

/** JSON answers and request bodies for the hub's plain HTTP routes (the transport kit: no domain imports). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string) => Promise<void> | void;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

/**
 * A route's answer for what it threw: a HubError (or a transient storage error, as
 * SERVICE_UNAVAILABLE with Retry-After) by its code's status; false for anything else, which the
 * caller logs and answers as internal.
 */
export function sendFailure(res: http.ServerResponse, error: unknown, statusOf: (code: keyof typeof HTTP_STATUS) => number = (code) => HTTP_STATUS[code]): boolean {
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
export const ANSWERED = Symbol("answered");

export async function parseBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
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
