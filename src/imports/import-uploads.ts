import crypto from "node:crypto";
import fs from "node:fs";
import type http from "node:http";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { HubQueues } from "../../jobs/queues.ts";
import { HubError } from "../errors.ts";
import type { ImportFormat } from "./import-runner.ts";

export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

export function importsDir(dataDir: string): string {
  return path.join(dataDir, "imports");
}

export function importFiles(dataDir: string, importId: string, format: ImportFormat) {
  const base = path.join(importsDir(dataDir), importId);
  return { data: `${base}.${format}`, rejects: `${base}.rejects.ndjson` };
}

function formatOf(req: http.IncomingMessage, url: URL): ImportFormat {
  const wanted = url.searchParams.get("format") ?? ((req.headers["content-type"] ?? "").includes("csv") ? "csv" : "ndjson");
  if (wanted !== "csv" && wanted !== "ndjson") throw new HubError("BAD_USER_INPUT", "format must be ndjson or csv");
  return wanted;
}

/** Stores an uploaded register file under DATA_DIR/imports and queues it for the worker. */
export async function acceptUpload(req: http.IncomingMessage, dataDir: string, queues: HubQueues): Promise<{ id: string; format: ImportFormat }> {
  const format = formatOf(req, new URL(req.url ?? "/", "http://hub"));
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_UPLOAD_BYTES) throw new HubError("BAD_USER_INPUT", `uploads are limited to ${MAX_UPLOAD_BYTES} bytes`);
  const id = `imp_${crypto.randomBytes(9).toString("base64url")}`;
  fs.mkdirSync(importsDir(dataDir), { recursive: true });
  const files = importFiles(dataDir, id, format);
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > MAX_UPLOAD_BYTES) req.destroy(new Error("upload too large"));
  });
  try {
    await pipeline(req, fs.createWriteStream(files.data));
  } catch {
    fs.rmSync(files.data, { force: true });
    throw new HubError("BAD_USER_INPUT", "the upload was interrupted or too large");
  }
  if (received === 0) {
    fs.rmSync(files.data, { force: true });
    throw new HubError("BAD_USER_INPUT", "the upload is empty");
  }
  await queues.addImport({ importId: id, format }).catch(() => {
    fs.rmSync(files.data, { force: true });
    throw new HubError("INTERNAL_SERVER_ERROR", "the import queue is unavailable right now; try again shortly");
  });
  return { id, format };
}
