import crypto from "node:crypto";
import fs from "node:fs";
import type http from "node:http";
import { pipeline } from "node:stream/promises";
import type { HubQueues } from "../../jobs/queues.ts";
import { asStorageUnavailable } from "../db/storage-errors.ts";
import { HubError, type ErrorCode } from "../errors.ts";
import type { Principal } from "../partners/roles.ts";
import { privateWriteStream } from "../private-files.ts";
import { ensureImportsDir, importFiles, isImportFormat } from "./import-files.ts";
import type { ImportQuota } from "./import-quota.ts";
import type { ImportFormat } from "./import-runner.ts";

/** A refusal with its own HTTP status (415, 413); the code stays one of the closed set. */
export class UploadRefusal extends HubError {
  constructor(
    code: ErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(code, message);
  }
}

/** The documented media types; application/octet-stream (or none) needs `?format=`. */
const MEDIA_TYPES = new Map<string, ImportFormat | null>([
  ["application/x-ndjson", "ndjson"],
  ["application/ndjson", "ndjson"],
  ["text/csv", "csv"],
  ["application/octet-stream", null],
]);

const TYPES_HINT = "send content-type application/x-ndjson (or application/ndjson) or text/csv, or application/octet-stream with ?format=ndjson|csv";

function formatOf(req: http.IncomingMessage, url: URL): ImportFormat {
  const wanted = url.searchParams.get("format");
  if (wanted !== null && !isImportFormat(wanted)) throw new HubError("BAD_USER_INPUT", "format must be ndjson or csv");
  const media = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  const typed = media === "" ? null : MEDIA_TYPES.get(media);
  if (typed === undefined) throw new UploadRefusal("BAD_USER_INPUT", 415, `unsupported content-type: ${TYPES_HINT}`);
  if (typed !== null && wanted !== null && typed !== wanted) throw new UploadRefusal("BAD_USER_INPUT", 415, `the content-type and ?format= disagree: ${TYPES_HINT}`);
  const format = typed ?? wanted;
  if (format === null) throw new UploadRefusal("BAD_USER_INPUT", 415, `the upload's format is not known: ${TYPES_HINT}`);
  return format;
}

export interface UploadLimits {
  maxUploadBytes: number;
  quota: ImportQuota;
}

/** Receives the body into an owner-only file; false when it was empty. Throws (413) past the limit. */
async function receive(req: http.IncomingMessage, file: string, maxBytes: number): Promise<boolean> {
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) req.destroy(new Error("upload too large"));
  });
  try {
    await pipeline(req, privateWriteStream(file, "wx"));
  } catch (error) {
    if (received > maxBytes) throw new UploadRefusal("BAD_USER_INPUT", 413, `uploads are limited to ${maxBytes} bytes`);
    const unavailable = asStorageUnavailable(error);
    if (unavailable !== error) throw unavailable; // the disk is full: 503, retry later
    throw new HubError("BAD_USER_INPUT", "the upload was interrupted");
  }
  return received > 0;
}

/**
 * Stores an uploaded register file under DATA_DIR/imports (owner-only) and queues it for the
 * worker under the issuer key's quota. The file is removed on every path that does not queue it.
 */
export async function acceptUpload(req: http.IncomingMessage, dataDir: string, queues: HubQueues, issuer: Principal, limits: UploadLimits): Promise<{ id: string; format: ImportFormat }> {
  const format = formatOf(req, new URL(req.url ?? "/", "http://hub"));
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limits.maxUploadBytes) throw new UploadRefusal("BAD_USER_INPUT", 413, `uploads are limited to ${limits.maxUploadBytes} bytes`);
  const release = await limits.quota.reserve(issuer.keyId);
  const id = `imp_${crypto.randomBytes(9).toString("base64url")}`;
  const files = importFiles(dataDir, id, format);
  // Received under a `.part` name, so the sweep can tell an upload in progress from an orphan.
  const partial = `${files.data}.part`;
  let queued = false;
  try {
    ensureImportsDir(dataDir);
    if (!(await receive(req, partial, limits.maxUploadBytes))) throw new HubError("BAD_USER_INPUT", "the upload is empty");
    fs.renameSync(partial, files.data);
    await queues.addImport({ importId: id, format, issuerKeyId: issuer.keyId }).catch(() => {
      throw new HubError("INTERNAL_SERVER_ERROR", "the import queue is unavailable right now; try again shortly");
    });
    queued = true;
  } finally {
    if (!queued) for (const file of [partial, files.data]) fs.rmSync(file, { force: true });
    release();
  }
  return { id, format };
}
