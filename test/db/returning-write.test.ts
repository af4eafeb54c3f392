/**
 * On a full disk, SQLite can fail at COMMIT (the WAL cannot grow). better-sqlite3's get() on an
 * autocommit `INSERT/UPDATE ... RETURNING` does not report that error: it hands back a row that
 * was never stored. Shown here on a real full disk (a small tmpfs filled until ENOSPC), and that
 * the hub's writes read that way (a partner, an API key, a revocation) are refused instead of
 * answered with what was not stored, and succeed once space is back.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { createServices, closeServices } from "../../src/app/services.ts";
import { Digester } from "../../src/hub-secret.ts";
import { fillDisk, isStorageFull, mountTmpfs } from "../helpers/storage-full.ts";
import { TEST_SECRET } from "../helpers/temp-hub.ts";

const mount = mountTmpfs(8);
const refused = typeof mount === "string" ? mount : null;

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return null;
}

describe.skipIf(refused !== null)(`RETURNING writes on a real full disk${refused ? ` (skipped: ${refused})` : ""}`, () => {
  const dir = typeof mount === "string" ? "" : mount.dir;
  let free: (() => void) | null = null;
  afterAll(() => {
    free?.();
    if (typeof mount !== "string") mount.unmount();
  });

  it("better-sqlite3's get() in autocommit loses the commit error (why writeReturning exists)", () => {
    const sqlite = new Database(path.join(dir, "raw.sqlite"));
    try {
      sqlite.pragma("journal_mode = WAL");
      sqlite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      sqlite.prepare("INSERT INTO t (v) VALUES ('kept')").run();
      free = fillDisk(dir);
      const insert = sqlite.prepare("INSERT INTO t (v) VALUES (?) RETURNING id");
      expect(insert.get("x".repeat(3000))).toEqual({ id: 2 }); // "stored"...
      expect(sqlite.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 1 }); // ...but it was not
      const inTransaction = thrown(() => sqlite.transaction(() => insert.get("x".repeat(3000)))());
      expect(isStorageFull(inTransaction)).toBe(true);
    } finally {
      free?.();
      free = null;
      sqlite.close();
    }
  });

  it("a partner, an API key and a revocation are refused on the full disk, never answered unstored; they succeed once space is back", () => {
    const db = openDatabase(path.join(dir, "hub.sqlite"));
    const services = createServices({ db, digester: new Digester(TEST_SECRET) });
    try {
      const admin = services.apiKeys.create({ role: "ADMIN" });
      free = fillDisk(dir);
      const count = (table: string) => (db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      expect(isStorageFull(thrown(() => services.partners.create({ name: "Rail", industry: "RAIL" })))).toBe(true);
      expect(count("partners")).toBe(0);
      expect(isStorageFull(thrown(() => services.apiKeys.create({ role: "VIEWER" })))).toBe(true);
      expect(count("api_keys")).toBe(1);
      // A revocation that did not happen must not read as done: the key still works, and says so.
      expect(isStorageFull(thrown(() => services.apiKeys.revoke(admin.apiKey.id)))).toBe(true);
      expect(services.apiKeys.get(admin.apiKey.id)?.revokedAt).toBeNull();
      free();
      free = null;
      expect(services.partners.create({ name: "Rail", industry: "RAIL" }).name).toBe("Rail");
      expect(services.apiKeys.revoke(admin.apiKey.id).revokedAt).not.toBeNull();
      expect(services.apiKeys.authenticate(admin.secret)).toBeNull();
      expect(count("partners")).toBe(1);
      expect(db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
    } finally {
      free?.();
      free = null;
      closeServices(services);
      db.$client.close();
    }
  });
});
