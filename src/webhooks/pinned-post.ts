/**
 * One webhook POST to a pinned address.
 *
 * The target was checked by `resolveDeliverableUrl`, which pinned one resolved address. The request
 * keeps the URL's host for the Host header and TLS (SNI and certificate checks) but connects only to
 * the pinned address: its connector never asks DNS, so a rebinding DNS answer cannot redirect it.
 * Redirects are never followed (a 3xx is just a status), the whole attempt is bounded by one
 * timeout, and at most `maxResponseBytes` of the response body are read.
 *
 * The transport is undici (about three times the requests per second of node:http here). Each
 * origin and pinned address has its own connection pool (keep-alive, 64 connections), so a kept
 * connection is only reused for a request pinned to the same address.
 */
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { buildConnector, Pool } from "undici";
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

const BODY_SNIPPET_CHARS = 256;
/** Enough bytes for 256 UTF-16 code units of UTF-8; the rest of the body is counted, not kept. */
const SNIPPET_BYTES = BODY_SNIPPET_CHARS * 4;

const POOL_OPTIONS = { connections: 64, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 15_000, pipelining: 1 } as const;
/** Pools kept at most; the least recently created is closed beyond this. */
const MAX_POOLS = 1_000;
const pools = new Map<string, Pool>();
const baseConnector = buildConnector({});

/** The pool for one origin and pinned address: it connects to the address, never to what DNS says now. */
function poolFor(url: URL, address: string, servername: string | undefined): Pool {
  const key = `${url.origin}|${address}`;
  let pool = pools.get(key);
  if (!pool) {
    if (pools.size >= MAX_POOLS) {
      const [oldest, evicted] = pools.entries().next().value!;
      pools.delete(oldest);
      void evicted.close().catch(() => undefined);
    }
    pool = new Pool(url.origin, {
      ...POOL_OPTIONS,
      // SNI and certificate checks use the URL's host name, never the pinned IP (no SNI for literals).
      connect: (options, callback) => baseConnector({ ...options, hostname: address, servername }, callback),
    });
    pools.set(key, pool);
  }
  return pool;
}

/** Closes the pooled keep-alive connections (shutdown, tests). Later posts open new pools. */
export function closePinnedAgents(): void {
  for (const pool of pools.values()) void pool.destroy().catch(() => undefined);
  pools.clear();
}

/** Headers the transport owns: the caller's values for these are ignored. */
const TRANSPORT_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "expect"]);

function errorCode(error: unknown): string {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  // undici wraps some socket errors; the operating system's code is on the cause.
  if (typeof cause?.code === "string" && (code === undefined || code === "UND_ERR_SOCKET")) return cause.code;
  return typeof code === "string" ? code : "";
}

function classify(error: unknown): { kind: DeliveryNetworkErrorKind; message: string } {
  const code = errorCode(error);
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
    case "UND_ERR_CONNECT_TIMEOUT":
      return { kind: "timeout", message: "connection timed out" };
    case "ECONNRESET":
    case "ECONNABORTED":
    case "EPIPE":
    case "UND_ERR_SOCKET":
    case "UND_ERR_CLOSED":
      return { kind: "reset", message: "connection closed by the receiver before a response" };
  }
  // undici's parser errors carry no code, only their name.
  if (code.startsWith("HPE_") || (error as Error | null)?.name === "HTTPParserError") return { kind: "other", message: `invalid HTTP response (${code || "not HTTP/1.1"})` };
  if (code.includes("CERT") || code.includes("TLS") || code.includes("SSL") || code.startsWith("UNABLE_TO_")) {
    return { kind: "other", message: `TLS failure (${code}): ${String((error as Error).message).slice(0, 200)}` };
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
export async function postPinned(target: PinnedTarget, options: PostOptions): Promise<PostResult> {
  const { url, address } = target;
  const isHttps = url.protocol === "https:";
  if (!isHttps && url.protocol !== "http:") throw new DeliveryNetworkError(`unsupported protocol ${url.protocol}`, "other");
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const hostIsLiteral = isIP(hostname) !== 0;
  if (hostIsLiteral && hostname.toLowerCase() !== address.toLowerCase()) {
    throw new DeliveryNetworkError("pinned address does not match the URL's IP literal host", "other");
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) {
    if (!TRANSPORT_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  const pool = poolFor(url, address, isHttps && !hostIsLiteral ? hostname : undefined);

  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, options.timeoutMs);
  try {
    let response;
    try {
      response = await pool.request({
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers,
        body: options.body,
        signal: abort.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
    } catch (error) {
      if (timedOut) throw new DeliveryNetworkError(`no response within ${options.timeoutMs} ms`, "timeout", elapsed());
      const { kind, message } = classify(error);
      throw new DeliveryNetworkError(message, kind, elapsed());
    }
    const retryAfterHeader = response.headers["retry-after"];
    const retryAfter = typeof retryAfterHeader === "string" ? retryAfterHeader : null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let readBytes = 0;
    const keepLimit = options.keepBody ? options.maxResponseBytes : SNIPPET_BYTES;
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        const room = options.maxResponseBytes - readBytes;
        const part = chunk.length > room ? chunk.subarray(0, Math.max(room, 0)) : chunk;
        readBytes += part.length;
        if (keptBytes < keepLimit && part.length > 0) {
          const keep = part.subarray(0, keepLimit - keptBytes);
          kept.push(keep);
          keptBytes += keep.length;
        }
        if (chunk.length > room) break;
      }
    } catch {
      // The body broke off (or the timeout hit) after the status arrived: the status still stands.
    }
    // Anything not read to the end closes the connection instead of returning it to the pool.
    if (!response.body.readableEnded) response.body.destroy();
    const result: PostResult = { status: response.statusCode, retryAfter, latencyMs: elapsed(), bodySnippet: snippet(kept) };
    if (options.keepBody) result.body = Buffer.concat(kept).toString("utf8");
    return result;
  } finally {
    clearTimeout(timer);
  }
}
