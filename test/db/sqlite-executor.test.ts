/**
 * What only the SQLite executor has to prove: it shares the hub's connection with the synchronous
 * stores (each sees the other's commits), a call that escaped its transaction's context fails as
 * busy instead of waiting forever, another process's write lock is busy as today, and a RETURNING
 * write on a full disk is refused rather than answered with a row that was never stored.
 */
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inTransaction, openDatabase, type HubDb } from "../../src/db/client.ts";
import { sqliteExecutor } from "../../src/db/sqlite-executor.ts";
import { defineStatement, type NoParams } from "../../src/db/statement.ts";
import { asStorageUnavailable, storageTroubleOf } from "../../src/db/storage-errors.ts";
import { fillDisk, holdWriteLock, mountTmpfs } from "../helpers/storage-full.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const INSERT = defineStatement<{ key: string; value: string }, { key: string }>("INSERT INTO hub_meta (key, value) VALUES (@key, @value) RETURNING key");
const VALUE = defineStatement<{ key: string }, { value: string }>("SELECT value FROM hub_meta WHERE key = @key");
const KEYS = defineStatement<NoParams, { key: string }>("SELECT key FROM hub_meta WHERE key LIKE 'test-%' ORDER BY key");

function open(dir = tempDir("fpr-hub-sqlite-executor-")): { db: HubDb; file: string } {
  const file = path.join(dir, "hub.sqlite");
  return { db: openDatabase(file), file };
}

describe("SQLite executor", () => {
  it("is the connection's one executor, and shares it with the synchronous stores", async () => {
    const { db } = open();
    const executor = sqliteExecutor(db);
    expect(sqliteExecutor(db)).toBe(executor);
    inTransaction(db, () => db.$client.prepare("INSERT INTO hub_meta (key, value) VALUES ('test-sync', 'written synchronously')").run());
    expect(await executor.get(VALUE, { key: "test-sync" })).toEqual({ value: "written synchronously" });
    await executor.transaction(() => executor.run(INSERT, { key: "test-async", value: "written by the executor" }));
    expect(db.$client.prepare("SELECT value FROM hub_meta WHERE key = 'test-async'").get()).toEqual({ value: "written by the executor" });
    await executor.close();
    expect(db.$client.open).toBe(false);
  });

  it("a call that escaped its transaction waits for it, then fails as busy rather than hanging", async () => {
    const { db } = open();
    const executor = sqliteExecutor(db, { busyTimeoutMs: 100 });
    let release!: () => void;
    const go = new Promise<void>((resolve) => (release = resolve));
    // Registered outside the transaction: when the gate opens, this read runs outside it.
    const escaped = go.then(() => executor.all(KEYS));
    const result = await executor.transaction(async () => {
      await executor.run(INSERT, { key: "test-inside", value: "x" });
      release();
      // Waiting for work that waits for this transaction: without the timeout, neither would end.
      return escaped.catch((error: unknown) => error);
    });
    expect(storageTroubleOf(result)).toBe("busy");
    expect(asStorageUnavailable(result)).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    // The transaction itself committed, and the connection is free again.
    expect(await executor.all(KEYS)).toEqual([{ key: "test-inside" }]);
    await executor.close();
  });

  it("another process holding the write lock is busy (SQLITE_BUSY at BEGIN IMMEDIATE), as for the synchronous stores", async () => {
    const { db, file } = open();
    const executor = sqliteExecutor(db);
    const releaseLock = holdWriteLock(db.$client, file, (other) => openDatabase(other).$client);
    try {
      const error = await executor.transaction(() => executor.run(INSERT, { key: "test-busy", value: "x" })).catch((thrown: unknown) => thrown);
      expect(storageTroubleOf(error)).toBe("busy");
    } finally {
      releaseLock();
    }
    await executor.transaction(() => executor.run(INSERT, { key: "test-busy", value: "x" }));
    await executor.close();
  });

  const mount = mountTmpfs(8);
  afterAll(() => {
    if (typeof mount !== "string") mount.unmount();
  });
  it.skipIf(typeof mount === "string")("a RETURNING write on a full disk is refused, never answered with a row that was not stored", async () => {
    if (typeof mount === "string") return;
    const { db } = open(mount.dir);
    const executor = sqliteExecutor(db);
    await executor.run(INSERT, { key: "test-kept", value: "x" });
    const free = fillDisk(mount.dir);
    try {
      const error = await executor.get(INSERT, { key: "test-lost", value: "x".repeat(3000) }).catch((thrown: unknown) => thrown);
      expect(storageTroubleOf(error)).toBe("disk-full");
      expect(await executor.all(KEYS)).toEqual([{ key: "test-kept" }]);
    } finally {
      free();
    }
    expect(await executor.get(INSERT, { key: "test-later", value: "x" })).toEqual({ key: "test-later" });
    await executor.close();
  });
});
