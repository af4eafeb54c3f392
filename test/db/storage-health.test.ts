/**
 * The storage monitor: which failures make /readyz not ready and what clears them, the free-space
 * report (warning; problem once a write failed for lack of space), the probe that finds out space
 * came back when nobody writes, and a log that does not flood.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openDatabase, probeWrite } from "../../src/db/client.ts";
import { HealthChecks } from "../../src/health-checks.ts";
import { StorageHealth, watchedDirs } from "../../src/db/storage-health.ts";
import { capPages, holdWriteLock } from "../helpers/storage-full.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const full = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });

function monitor(minFreeBytes = 0, dirs = [tempDir()]) {
  const logs: Record<string, unknown>[] = [];
  const health = new HealthChecks((entry) => logs.push(entry));
  const storage = new StorageHealth(health, { dirs, minFreeBytes, log: (entry) => logs.push(entry) });
  const problems = () => health.codes("problem");
  const warnings = () => health.codes("warning");
  return { storage, health, logs, problems, warnings };
}

describe("storage health", () => {
  it("a retrying writer's failure holds until that writer succeeds; another writer's success does not clear it", () => {
    const { storage, problems } = monitor();
    expect(problems()).toEqual([]);
    storage.recordStorageError("audit", full, { pending: "3 audit records" });
    expect(problems()).toEqual(["storage-unavailable"]);
    storage.recordStorageOk("key-use");
    expect(problems()).toEqual(["storage-unavailable"]);
    storage.recordStorageError("key-use", busy);
    storage.recordStorageOk("audit");
    expect(problems()).toEqual(["storage-unavailable"]); // key-use still failing
    storage.recordStorageOk("key-use");
    expect(problems()).toEqual([]);
    expect(storage.isFailing).toBe(false);
  });

  it("a one-shot failure (a refused mutation) clears on any later successful write", () => {
    const { storage, problems } = monitor();
    storage.recordStorageError("register", full, { retrying: false });
    expect(problems()).toEqual(["storage-unavailable"]);
    storage.recordStorageOk("audit");
    expect(problems()).toEqual([]);
  });

  it("errors that are not storage trouble are logged but are not a readiness problem", () => {
    const { storage, problems, logs } = monitor();
    storage.recordStorageError("audit", Object.assign(new Error("UNIQUE constraint failed"), { code: "SQLITE_CONSTRAINT_PRIMARYKEY" }));
    storage.recordStorageError("audit", "not even an error");
    expect(problems()).toEqual([]);
    expect(logs.filter((entry) => entry.msg === "storage: audit could not write")).toHaveLength(1);
  });

  it("logs a failing writer once per 10 s however often it fails, and once when it recovers", () => {
    const { storage, logs } = monitor();
    for (let i = 0; i < 500; i += 1) storage.recordStorageError("audit", full, { pending: `${i} audit records` });
    const failures = logs.filter((entry) => entry.writer === "audit" && entry.level === "error");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ msg: "storage: audit could not write; 0 audit records kept in memory, retried", trouble: "disk-full" });
    // The readiness problem itself is logged once, when it appears.
    expect(logs.filter((entry) => entry.code === "storage-unavailable" && String(entry.msg).startsWith("health: storage writes are failing"))).toHaveLength(1);
    storage.recordStorageOk("audit");
    expect(logs.filter((entry) => entry.msg === "storage: writes work again")).toEqual([expect.objectContaining({ writer: "audit", failures: 500 })]);
    expect(logs.filter((entry) => entry.msg === "health: cleared" && entry.code === "storage-unavailable")).toHaveLength(1);
  });

  it("reports storage-low below STORAGE_MIN_FREE_BYTES: a warning, a problem once a write failed for lack of space", async () => {
    const dir = tempDir();
    const { storage, problems, warnings } = monitor(2 ** 60, [dir]); // more than any disk has
    await storage.check();
    expect(storage.freeBytes).toBeGreaterThan(0);
    expect(warnings()).toEqual(["storage-low"]);
    expect(problems()).toEqual([]);
    storage.recordStorageError("audit", full);
    expect(problems()).toEqual(["storage-low", "storage-unavailable"]);
    storage.recordStorageOk("audit");
    expect(problems()).toEqual([]);
    expect(warnings()).toEqual(["storage-low"]);
    // A busy database is not a space problem.
    storage.recordStorageError("audit", busy);
    expect(problems()).toEqual(["storage-unavailable"]);
    const roomy = monitor(1, [dir]);
    await roomy.storage.check();
    expect(roomy.warnings()).toEqual([]);
  });

  it("measures nothing (and reports nothing) for a folder that is not there, without throwing", async () => {
    const { storage, warnings, problems } = monitor(2 ** 60, [path.join(tempDir(), "missing", "deeper")]);
    await storage.check();
    expect(storage.freeBytes).toBeNull();
    expect([...warnings(), ...problems()]).toEqual([]);
  });

  it("watches DATA_DIR and the database's folder once each", () => {
    expect(watchedDirs({ dataDir: "/a", databasePath: "/a/hub.sqlite" })).toEqual(["/a"]);
    expect(watchedDirs({ dataDir: "/a", databasePath: "/b/hub.sqlite" })).toEqual(["/a", "/b"]);
  });

  it("probes with a real write while a one-shot failure stands: still failing while full, cleared once it is not", async () => {
    const file = path.join(tempDir(), "hub.sqlite");
    const db = openDatabase(file);
    const { storage, problems } = monitor();
    storage.start(60_000, () => probeWrite(db));
    try {
      const release = holdWriteLock(db.$client, file, (f) => new Database(f));
      let error: unknown;
      try {
        probeWrite(db);
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
      storage.recordStorageError("register", error, { retrying: false });
      await storage.check();
      expect(problems()).toEqual(["storage-unavailable"]); // the probe failed too
      release();
      await storage.check();
      expect(problems()).toEqual([]);
      // A retrying writer's failure is its own to clear: the probe leaves it.
      const uncap = capPages(db.$client);
      storage.recordStorageError("audit", full);
      await storage.check();
      expect(problems()).toEqual(["storage-unavailable"]);
      uncap();
      expect(Number(db.$client.pragma("user_version", { simple: true }))).toBe(0); // the probe changed nothing
    } finally {
      storage.close();
      db.$client.close();
    }
  });
});
