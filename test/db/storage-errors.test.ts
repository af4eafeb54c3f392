/**
 * One rule for "is this a transient storage error", proved on genuine errors: SQLite's own
 * SQLITE_FULL (max_page_count), SQLITE_BUSY (a second connection holding the write lock),
 * SQLITE_READONLY (a read-only connection), the kernel's ENOSPC (/dev/full), also when wrapped as
 * drizzle and Apollo wrap them; and how the one error mapping shows them to callers.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { asStorageUnavailable, isTransientStorageError, storageTroubleOf } from "../../src/db/storage-errors.ts";
import { HubError } from "../../src/errors.ts";
import { formatHubError, unavailableHttpOf } from "../../src/api/error-mapping.ts";
import { restErrorOf, retryAfterHeader } from "../../src/http/error-status.ts";
import { isStorageFull } from "../helpers/storage-full.ts";
import { tempDir } from "../helpers/temp-dir.ts";

function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

/** A database capped at its current size, written until SQLite itself says SQLITE_FULL. */
function genuineFull(): Error {
  const db = new Database(path.join(tempDir(), "full.sqlite"));
  db.exec("CREATE TABLE t (x BLOB)");
  db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true })}`);
  const error = thrown(() => {
    for (let i = 0; i < 10_000; i += 1) db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(2048));
  });
  db.close();
  return error;
}

function genuineBusy(): Error {
  const file = path.join(tempDir(), "busy.sqlite");
  const holder = new Database(file);
  holder.exec("CREATE TABLE t (x)");
  holder.exec("BEGIN IMMEDIATE");
  const other = new Database(file, { timeout: 0 });
  const error = thrown(() => other.prepare("INSERT INTO t VALUES (1)").run());
  holder.exec("ROLLBACK");
  other.close();
  holder.close();
  return error;
}

function genuineReadOnly(): Error {
  const file = path.join(tempDir(), "ro.sqlite");
  new Database(file).exec("CREATE TABLE t (x)");
  const db = new Database(file, { readonly: true });
  const error = thrown(() => db.prepare("INSERT INTO t VALUES (1)").run());
  db.close();
  return error;
}

function constraintError(): Error {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (x PRIMARY KEY)");
  db.exec("INSERT INTO t VALUES (1)");
  const error = thrown(() => db.exec("INSERT INTO t VALUES (1)"));
  db.close();
  return error;
}

describe("transient storage errors", () => {
  it("recognises SQLite's own FULL, BUSY and READONLY, and the kernel's ENOSPC", () => {
    const full = genuineFull();
    expect((full as { code?: string }).code).toBe("SQLITE_FULL");
    expect(storageTroubleOf(full)).toBe("disk-full");
    expect(isStorageFull(full)).toBe(true);
    const busy = genuineBusy();
    expect((busy as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    expect(storageTroubleOf(busy)).toBe("busy");
    expect(isStorageFull(busy)).toBe(false);
    const readOnly = genuineReadOnly();
    expect((readOnly as { code?: string }).code).toMatch(/^SQLITE_READONLY/);
    expect(storageTroubleOf(readOnly)).toBe("read-only");
    const noSpace = thrown(() => fs.writeFileSync("/dev/full", "x"));
    expect((noSpace as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(storageTroubleOf(noSpace)).toBe("disk-full");
  });

  it("follows wrappers (drizzle's cause, Apollo's originalError) but not a cycle, and ignores what is not storage", () => {
    const full = genuineFull();
    const drizzle = new Error("Failed query: INSERT INTO audit_log ...", { cause: full });
    const apollo = new GraphQLError("database or disk is full", { originalError: drizzle });
    expect(storageTroubleOf(apollo)).toBe("disk-full");
    // Codes that look alike are not the same code.
    expect(storageTroubleOf(Object.assign(new Error("x"), { code: "SQLITE_FULLNESS" }))).toBeNull();
    expect(storageTroubleOf(Object.assign(new Error("x"), { code: "SQLITE_IOERR_WRITE" }))).toBe("io-error");
    const loop = new Error("loop");
    (loop as { cause?: unknown }).cause = loop;
    expect(storageTroubleOf(loop)).toBeNull();
    expect(isTransientStorageError(constraintError())).toBe(false);
    for (const junk of [null, undefined, "SQLITE_FULL", { code: "SQLITE_FULL" }, 42]) expect(isTransientStorageError(junk)).toBe(false);
    // The caller's error says which trouble it stands for, so a retry decision can read it too.
    expect(storageTroubleOf(asStorageUnavailable(full))).toBe("disk-full");
  });

  it("tells callers SERVICE_UNAVAILABLE with a retry hint, never the SQL or a path", () => {
    const full = genuineFull();
    const wrapped = new GraphQLError("Failed query: INSERT INTO t VALUES (?) /tmp/x.sqlite", { originalError: new Error("Failed query", { cause: full }), path: ["issueCard"] });
    const shown = formatHubError({ message: wrapped.message, path: ["issueCard"], extensions: { code: "INTERNAL_SERVER_ERROR" } }, wrapped);
    expect(shown).toEqual({
      message: "storage is temporarily unavailable (the disk is full); retry shortly",
      path: ["issueCard"],
      extensions: { code: "SERVICE_UNAVAILABLE", retryAfterMs: 5000 },
    });
    const busy = formatHubError({ message: "database is locked", extensions: {} }, new GraphQLError("x", { originalError: genuineBusy() }));
    expect(busy.extensions).toEqual({ code: "SERVICE_UNAVAILABLE", retryAfterMs: 1000 });
    // Anything else stays masked as internal.
    const other = formatHubError({ message: "UNIQUE constraint failed: t.x", extensions: {} }, new GraphQLError("x", { originalError: constraintError() }));
    expect(other.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(other.message).not.toMatch(/constraint/);
  });

  it("maps to HTTP: 503 and Retry-After on REST routes; on GraphQL 503 only when nothing was answered", () => {
    const rest = restErrorOf(genuineFull());
    expect(rest).toBeInstanceOf(HubError);
    expect(rest?.code).toBe("SERVICE_UNAVAILABLE");
    expect(retryAfterHeader(rest?.extensions)).toBe("5");
    expect(restErrorOf(constraintError())).toBeNull();
    const conflict = new HubError("CONFLICT", "x");
    expect(restErrorOf(conflict)).toBe(conflict);
    for (const junk of [undefined, {}, { retryAfterMs: -1 }, { retryAfterMs: Number.NaN }, { retryAfterMs: "5000" }]) expect(retryAfterHeader(junk)).toBeNull();
    expect(retryAfterHeader({ retryAfterMs: 1 })).toBe("1");
    const unavailable = { message: "m", extensions: { code: "SERVICE_UNAVAILABLE", retryAfterMs: 1000 } };
    const busyDisk = { message: "m", extensions: { code: "SERVICE_UNAVAILABLE", retryAfterMs: 5000 } };
    expect(unavailableHttpOf([unavailable, busyDisk], false)).toEqual({ status: 503, retryAfter: "5" });
    expect(unavailableHttpOf([unavailable], true)).toEqual({ status: null, retryAfter: "1" });
    expect(unavailableHttpOf([{ message: "m", extensions: { code: "NOT_FOUND" } }], false)).toBeNull();
  });
});
