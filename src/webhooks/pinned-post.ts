/**
 * One webhook POST to a pinned address.
 *
 * The target was checked by `resolveDeliverableUrl`, which pinned one resolved address. The request
 * keeps the URL's host for the Host header and TLS (SNI and certificate checks) but connects only to
 * the pinned address: its `lookup` never asks DNS, so a rebinding DNS answer cannot redirect it.
 * Redirects are never followed (a 3xx is just a status), the whole attempt is bounded by one
 * timeout, and at most `maxResponseBytes` of the response body are read.
 *
 * Connections are pooled per process (keep-alive, 64 sockets per origin). The pool key includes the
 * pinned address, so a kept-alive socket is only reused for a request pinned to the same address.
 */
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import type { PinnedTarget } from "./url-safety.ts";

export interface PostResult {
  status: number;
  /** The raw `Retry-After` header, if the receiver sent one. */
  retryAfter: string | null;
  /** Whole attempt: from the start of the request until the response body was read (or cut off). */
  latencyMs: number;
  /** The first (at most) 256 characters of the response body, decoded as UTF-8. */
  bodySnippet: string;
  /** The whole body read (up to maxResponseBytes), only when `keepBody` was asked for. */
  body?: string;
}

export type DeliveryNetworkErrorKind = "timeout" | "connect" | "reset" | "other";

/** The attempt got no HTTP status: timeout, refused or reset connection, TLS failure, bad response. */
export class DeliveryNetworkError extends Error {
  override readonly name = "DeliveryNetworkError";

  constructor(
    message: string,
    readonly kind: DeliveryNetworkErrorKind,
    /** Time spent on the attempt before it failed, when known. */
    readonly latencyMs: number | null = null,
  ) {
    super(message);
  }
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  /** Bounds the whole attempt: connect, TLS, sending, waiting for the status and reading the body. */
  timeoutMs: number;
  /** Stop reading the response body after this many bytes (the connection is then closed). */
  maxResponseBytes: number;
  /** Keep the body read (up to maxResponseBytes) rather than a snippet: for answers the hub grades. */
  keepBody?: boolean;
}

export const BODY_SNIPPET_CHARS = 256;
/** Enough bytes for 256 UTF-16 code units of UTF-8; the rest of the body is counted, not kept. */
const SNIPPET_BYTES = BODY_SNIPPET_CHARS * 4;

/** Request options carry the pinned address so the agents can pool by it. */
type PinnedRequestOptions = https.RequestOptions & { pinnedAddress: string };

function pinnedAddressOf(options: object | undefined): string {
  const value = (options as { pinnedAddress?: unknown } | undefined)?.pinnedAddress;
  return typeof value === "string" ? value : "";
}

class PinnedHttpAgent extends http.Agent {
  override getName(options?: http.ClientRequestArgs): string {
    return `${super.getName(options)}:pinned=${pinnedAddressOf(options)}`;
  }
}

class PinnedHttpsAgent extends https.Agent {
  override getName(options?: https.RequestOptions): string {
    return `${super.getName(options)}:pinned=${pinnedAddressOf(options)}`;
  }
}

const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, scheduling: "lifo", timeout: 15_000 } as const;
const httpAgent = new PinnedHttpAgent(AGENT_OPTIONS);
const httpsAgent = new PinnedHttpsAgent(AGENT_OPTIONS);

/** Closes the pooled keep-alive sockets (shutdown, tests). The agents stay usable. */
export function closePinnedAgents(): void {
  httpAgent.destroy();
  httpsAgent.destroy();
}

/** A `lookup` that answers every query with the pinned address and never consults DNS. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Headers the transport owns: the caller's values for these are ignored. */
const TRANSPORT_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive"]);

function classify(error: NodeJS.ErrnoException): { kind: DeliveryNetworkErrorKind; message: string } {
  const code = typeof error.code === "string" ? error.code : "";
  switch (code) {
    case "ECONNREFUSED":
      return { kind: "connect", message: "connection refused" };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
    case "EADDRNOTAVAIL":
      return { kind: "connect", message: `could not connect (${code})` };
    case "ETIMEDOUT":
      return { kind: "timeout", message: "connection timed out" };
    case "ECONNRESET":
    case "ECONNABORTED":
    case "EPIPE":
      return { kind: "reset", message: "connection closed by the receiver before a response" };
  }
  if (code.startsWith("HPE_")) return { kind: "other", message: `invalid HTTP response (${code})` };
  if (code.includes("CERT") || code.includes("TLS") || code.includes("SSL") || code.startsWith("UNABLE_TO_")) {
    return { kind: "other", message: `TLS failure (${code}): ${error.message.slice(0, 200)}` };
  }
  return { kind: "other", message: `request failed${code ? ` (${code})` : ""}` };
}

function snippet(chunks: Buffer[]): string {
  let text = Buffer.concat(chunks).toString("utf8").slice(0, BODY_SNIPPET_CHARS);
  if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  return text;
}

/**
 * POSTs `body` to `target.url`, connecting to `target.address` only. Resolves with the status for
 * any HTTP response (including 3xx, 4xx, 5xx); rejects with DeliveryNetworkError when there is none.
 * If the timeout fires after the status arrived, the call resolves with that status and whatever
 * body was read: the receiver's verdict is known.
 */
export function postPinned(target: PinnedTarget, options: PostOptions): Promise<PostResult> {
  const { url, address, family } = target;
  const isHttps = url.protocol === "https:";
  if (!isHttps && url.protocol !== "http:") {
    return Promise.reject(new DeliveryNetworkError(`unsupported protocol ${url.protocol}`, "other"));
  }
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const hostIsLiteral = isIP(hostname) !== 0;
  if (hostIsLiteral && hostname.toLowerCase() !== address.toLowerCase()) {
    // Node never calls `lookup` for a literal host, so the pin could not be honoured.
    return Promise.reject(new DeliveryNetworkError("pinned address does not match the URL's IP literal host", "other"));
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) {
    if (!TRANSPORT_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  headers["content-length"] = String(Buffer.byteLength(options.body));

  const requestOptions: PinnedRequestOptions = {
    method: "POST",
    headers,
    agent: isHttps ? httpsAgent : httpAgent,
    lookup: pinnedLookup(address, family),
    family,
    pinnedAddress: address,
    // SNI and certificate checks use the URL's host name, never the pinned IP (no SNI for literals).
    ...(isHttps && !hostIsLiteral ? { servername: hostname } : {}),
  };

  return new Promise<PostResult>((resolve, reject) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let settled = false;
    let finishResponse: (() => void) | null = null;

    const fail = (error: DeliveryNetworkError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(error);
    };

    const timer = setTimeout(() => {
      if (finishResponse) finishResponse();
      else fail(new DeliveryNetworkError(`no response within ${options.timeoutMs} ms`, "timeout", elapsed()));
    }, options.timeoutMs);

    const transport = isHttps ? https : http;
    const request = transport.request(url, requestOptions, (response) => {
      const status = response.statusCode ?? 0;
      const retryAfterHeader = response.headers["retry-after"];
      const retryAfter = typeof retryAfterHeader === "string" ? retryAfterHeader : null;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let readBytes = 0;

      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const result: PostResult = { status, retryAfter, latencyMs: elapsed(), bodySnippet: snippet(kept) };
        if (options.keepBody) result.body = Buffer.concat(kept).toString("utf8");
        // Anything not read to the end closes the connection instead of returning it to the pool.
        if (!response.complete) response.destroy();
        resolve(result);
      };
      finishResponse = finish;

      response.on("data", (chunk: Buffer) => {
        if (settled) return;
        const room = options.maxResponseBytes - readBytes;
        const part = chunk.length > room ? chunk.subarray(0, Math.max(room, 0)) : chunk;
        readBytes += part.length;
        const keepLimit = options.keepBody ? options.maxResponseBytes : SNIPPET_BYTES;
        if (keptBytes < keepLimit && part.length > 0) {
          const keep = part.subarray(0, keepLimit - keptBytes);
          kept.push(keep);
          keptBytes += keep.length;
        }
        if (chunk.length > room) finish();
      });
      response.on("end", finish);
      // The body broke off after the status arrived: the status still stands.
      response.on("error", finish);
      response.on("close", finish);
    });

    request.on("error", (error: NodeJS.ErrnoException) => {
      if (error instanceof DeliveryNetworkError) return fail(error);
      const { kind, message } = classify(error);
      fail(new DeliveryNetworkError(message, kind, elapsed()));
    });
    request.end(options.body);
  });
}
