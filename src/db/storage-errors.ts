import { HubError } from "../errors.ts";

/**
 * The one home for "is this a transient storage error": the disk is full, the database is busy or
 * locked, an I/O error, the file system went read-only, or the database server cannot be reached.
 * Such an error says nothing about the request: the same request succeeds once the operator frees
 * space, the lock clears or the server is back. So callers get SERVICE_UNAVAILABLE with a retry
 * hint (never INTERNAL_SERVER_ERROR, never the SQL or a path), writers with a buffer keep it and
 * retry, and the storage monitor (src/db/storage-health.ts) reports it on /readyz. Recognised:
 * better-sqlite3's SqliteError codes (SQLITE_FULL, SQLITE_BUSY*, SQLITE_LOCKED*, SQLITE_IOERR*,
 * SQLITE_READONLY*), Node's file-system codes for the same conditions (ENOSPC, EDQUOT, EROFS, EIO),
 * PostgreSQL's SQLSTATE codes for a server going away, refusing or overloaded, and the
 * PostgreSQL executor's StorageTroubleError (a connection refused or lost), also when wrapped
 * (drizzle's `cause`, Apollo's `originalError`).
 */
export type StorageTrouble = "disk-full" | "busy" | "locked" | "io-error" | "read-only" | "unreachable";

/** What callers are told, per trouble: no SQL, no path, no file name. */
const SHOWN: Record<StorageTrouble, string> = {
  "disk-full": "the disk is full",
  busy: "the database is busy",
  locked: "the database is locked",
  "io-error": "a storage I/O error",
  "read-only": "the storage is read-only",
  unreachable: "the database cannot be reached",
};

/** A lock clears in moments; space has to be freed by someone; a server restarts in seconds. */
const RETRY_AFTER_MS: Record<StorageTrouble, number> = {
  "disk-full": 5_000,
  busy: 1_000,
  locked: 1_000,
  "io-error": 5_000,
  "read-only": 5_000,
  unreachable: 2_000,
};

/** SQLite's primary result code (the extended ones add a suffix: SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT). */
const SQLITE_TROUBLES: [prefix: string, trouble: StorageTrouble][] = [
  ["SQLITE_FULL", "disk-full"],
  ["SQLITE_BUSY", "busy"],
  ["SQLITE_LOCKED", "locked"],
  ["SQLITE_IOERR", "io-error"],
  ["SQLITE_READONLY", "read-only"],
];

const ERRNO_TROUBLES: Record<string, StorageTrouble> = { ENOSPC: "disk-full", EDQUOT: "disk-full", EROFS: "read-only", EIO: "io-error" };

/** PostgreSQL's SQLSTATE codes (pg's DatabaseError `code`): five characters no SQLite or Node code has. */
const POSTGRES_TROUBLES: Record<string, StorageTrouble> = {
  "57P01": "unreachable", // admin_shutdown: the server is stopping, or an administrator ended the session
  "57P02": "unreachable", // crash_shutdown
  "57P03": "unreachable", // cannot_connect_now: starting up or recovering
  "08000": "unreachable", // connection_exception
  "08001": "unreachable", // sqlclient_unable_to_establish_sqlconnection
  "08003": "unreachable", // connection_does_not_exist
  "08006": "unreachable", // connection_failure
  "53300": "busy", // too_many_connections
  "57014": "busy", // query_canceled: the statement timeout
  "40001": "busy", // serialization_failure: the same transaction succeeds when retried
  "40P01": "busy", // deadlock_detected: likewise
};

/**
 * A database client's failure that carries no SQLSTATE but is storage trouble all the same, as
 * the executor that caught it judged (pg-executor.ts through `postgresClientTrouble`, a SQLite
 * connection busy past its wait in sqlite-executor.ts). Its message is for logs; callers are
 * shown only the trouble (asStorageUnavailable).
 */
export class StorageTroubleError extends Error {
  override readonly name = "StorageTroubleError";

  constructor(readonly trouble: StorageTrouble, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Node's socket codes: storage trouble only on a database's own connection. ioredis and webhook
 * receivers raise them too, and those are not storage troubles, so storageTroubleOf does not read
 * them on their own: the PostgreSQL executor wraps the errors of its connections.
 */
const SOCKET_TROUBLES: Record<string, StorageTrouble> = { ECONNREFUSED: "unreachable", ECONNRESET: "unreachable", EPIPE: "unreachable", ETIMEDOUT: "unreachable" };

/** pg's and pg-pool's own words for a connection lost or never made (they carry no code). */
const PG_CLIENT_TROUBLES: [message: string, trouble: StorageTrouble][] = [
  ["Connection terminated unexpectedly", "unreachable"],
  ["Connection terminated due to connection timeout", "unreachable"],
  ["Client has encountered a connection error and is not queryable", "unreachable"],
  // Every connection of the pool stayed in use for the whole connect timeout.
  ["timeout exceeded when trying to connect", "busy"],
];

/** `error` from the pg client as a StorageTroubleError (wrapping it) when it is a connection failure without a SQLSTATE; otherwise unchanged. */
export function postgresClientTrouble(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StorageTroubleError) return error;
  const code = (error as { code?: unknown }).code;
  const trouble = (typeof code === "string" ? SOCKET_TROUBLES[code] : undefined) ?? PG_CLIENT_TROUBLES.find(([message]) => error.message === message)?.[1];
  return trouble ? new StorageTroubleError(trouble, `PostgreSQL connection failed: ${error.message}`, { cause: error }) : error;
}

/** The caller's error for a storage trouble; it still says which trouble (for retry decisions), but only by code and message. */
class StorageUnavailableError extends HubError {
  constructor(readonly trouble: StorageTrouble) {
    super("SERVICE_UNAVAILABLE", `storage is temporarily unavailable (${SHOWN[trouble]}); retry shortly`, { retryAfterMs: RETRY_AFTER_MS[trouble] });
  }
}

/** How deep to follow `originalError` / `cause` (a cycle or a long chain is not a storage error). */
const MAX_DEPTH = 5;

function troubleOfCode(code: string): StorageTrouble | null {
  const sqlite = SQLITE_TROUBLES.find(([prefix]) => code === prefix || code.startsWith(`${prefix}_`));
  if (sqlite) return sqlite[1];
  return ERRNO_TROUBLES[code] ?? POSTGRES_TROUBLES[code] ?? null;
}

/** The transient storage trouble behind `error` (itself or what it wraps), or null. */
export function storageTroubleOf(error: unknown): StorageTrouble | null {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH && current instanceof Error; depth += 1) {
    if (current instanceof StorageUnavailableError || current instanceof StorageTroubleError) return current.trouble;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      const trouble = troubleOfCode(code);
      if (trouble) return trouble;
    }
    const wrapped = current as { originalError?: unknown; cause?: unknown };
    current = wrapped.originalError ?? wrapped.cause;
  }
  return null;
}

export function isTransientStorageError(error: unknown): boolean {
  return storageTroubleOf(error) !== null;
}

/** The caller's error for a transient storage trouble. */
export function storageUnavailable(trouble: StorageTrouble): HubError {
  return new StorageUnavailableError(trouble);
}

/** `error` as SERVICE_UNAVAILABLE when it is a transient storage error; anything else unchanged. */
export function asStorageUnavailable(error: unknown): unknown {
  const trouble = storageTroubleOf(error);
  return trouble ? storageUnavailable(trouble) : error;
}

/**
 * What a writer tells the storage monitor (src/db/storage-health.ts) after a write. Any write
 * path may call it; the monitor logs, and turns transient failures into /readyz problems.
 */
export interface StorageReporter {
  /**
   * A write failed. `retrying` (default true): the writer kept what it failed to write and tries
   * again on its own (the audit buffer, key use), so only its own success clears its failure;
   * false for a one-shot writer (a mutation answered SERVICE_UNAVAILABLE), cleared by any later
   * successful write or by the monitor's probe. `pending`: what is kept, for the log ("12 audit records").
   */
  recordStorageError(writer: string, error: unknown, options?: { retrying?: boolean; pending?: string }): void;
  /** A write by `writer` committed. */
  recordStorageOk(writer: string): void;
  /** `what` (kept in memory) could not be written before the process stopped. */
  recordStorageLoss(writer: string, what: string): void;
}

/** For processes without a monitor (the CLI, unit tests): their writers' errors reach their callers. */
export const NO_STORAGE_REPORTER: StorageReporter = { recordStorageError: () => {}, recordStorageOk: () => {}, recordStorageLoss: () => {} };
