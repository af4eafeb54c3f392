import { HubError } from "../errors.ts";

/**
 * The one home for "is this a transient storage error": the disk is full, the database is busy or
 * locked, an I/O error, or the file system went read-only. Such an error says nothing about the
 * request: the same request succeeds once the operator frees space or the lock clears. So callers
 * get SERVICE_UNAVAILABLE with a retry hint (never INTERNAL_SERVER_ERROR, never the SQL or a path),
 * writers with a buffer keep it and retry, and the storage monitor (src/db/storage-health.ts)
 * reports it on /readyz. Recognised: better-sqlite3's SqliteError codes (SQLITE_FULL, SQLITE_BUSY*,
 * SQLITE_LOCKED*, SQLITE_IOERR*, SQLITE_READONLY*) and Node's file-system codes for the same
 * conditions (ENOSPC, EDQUOT, EROFS, EIO), also when wrapped (drizzle's `cause`, Apollo's
 * `originalError`).
 */
export type StorageTrouble = "disk-full" | "busy" | "locked" | "io-error" | "read-only";

/** What callers are told, per trouble: no SQL, no path, no file name. */
const SHOWN: Record<StorageTrouble, string> = {
  "disk-full": "the disk is full",
  busy: "the database is busy",
  locked: "the database is locked",
  "io-error": "a storage I/O error",
  "read-only": "the storage is read-only",
};

/** A lock clears in moments; space has to be freed by someone. */
const RETRY_AFTER_MS: Record<StorageTrouble, number> = { "disk-full": 5_000, busy: 1_000, locked: 1_000, "io-error": 5_000, "read-only": 5_000 };

/** SQLite's primary result code (the extended ones add a suffix: SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT). */
const SQLITE_TROUBLES: [prefix: string, trouble: StorageTrouble][] = [
  ["SQLITE_FULL", "disk-full"],
  ["SQLITE_BUSY", "busy"],
  ["SQLITE_LOCKED", "locked"],
  ["SQLITE_IOERR", "io-error"],
  ["SQLITE_READONLY", "read-only"],
];

const ERRNO_TROUBLES: Record<string, StorageTrouble> = { ENOSPC: "disk-full", EDQUOT: "disk-full", EROFS: "read-only", EIO: "io-error" };

/**
 * A database client's failure that carries no code but is storage trouble all the same, as the
 * executor that caught it judged (a SQLite connection busy past its wait in sqlite-executor.ts).
 * Its message is for logs; callers are shown only the trouble (asStorageUnavailable).
 */
export class StorageTroubleError extends Error {
  override readonly name = "StorageTroubleError";

  constructor(readonly trouble: StorageTrouble, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
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
  return ERRNO_TROUBLES[code] ?? null;
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
