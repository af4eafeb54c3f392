import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/client.ts";
import { seedDemo } from "../src/demo/demo-seed.ts";
import { importStream } from "../src/imports/import-runner.ts";
import { resolveHubSecret } from "../src/hub-secret.ts";
import { findFreePort, findOrStartRedis } from "../src/redis/find-redis.ts";
import { TestHub, tempDir, tempServices } from "./helpers/temp-hub.ts";

const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** Everything the hub writes under DATA_DIR (and rejects anywhere) is owner-only, whatever the umask. */
describe("owner-only files", () => {
  it("creates DATA_DIR, the database (and -wal, -shm), the generated secret, uploads and their folder owner-only", async () => {
    const dataDir = path.join(tempDir(), "data");
    const hub = await TestHub.start({ DATA_DIR: dataDir, HUB_SECRET: "" });
    try {
      expect(mode(dataDir)).toBe(0o700);
      const database = hub.config.databasePath;
      for (const file of [database, `${database}-wal`, `${database}-shm`, path.join(dataDir, "hub-secret")]) expect(mode(file), file).toBe(0o600);
      const upload = await fetch(`${hub.api.url}/imports`, {
        method: "POST",
        headers: { authorization: `Bearer ${hub.key("ISSUER")}`, "content-type": "application/x-ndjson" },
        body: '{"number": "x"}\n',
      });
      expect(upload.status).toBe(202);
      const { id } = (await upload.json()) as { id: string };
      expect(mode(path.join(dataDir, "imports"))).toBe(0o700);
      expect(mode(path.join(dataDir, "imports", `${id}.ndjson`))).toBe(0o600);
    } finally {
      await hub.close();
    }
  });

  it("tightens a database, secret and demo keys left readable by an older version", () => {
    const dir = path.join(tempDir(), "old");
    fs.mkdirSync(dir, { mode: 0o755 });
    const file = path.join(dir, "hub.sqlite");
    openDatabase(file).$client.close();
    fs.chmodSync(file, 0o644);
    fs.chmodSync(dir, 0o755);
    const db = openDatabase(file);
    // The folder may be one the operator shares: it is left alone, the files are tightened.
    expect([mode(dir), mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o755, 0o600, 0o600, 0o600]);
    db.$client.close();
    const demoDir = path.join(tempDir(), "demo");
    fs.mkdirSync(demoDir, { mode: 0o755 });
    fs.writeFileSync(path.join(demoDir, "demo-keys.json"), "{}", { mode: 0o644 });
    seedDemo(tempServices(), demoDir, 5);
    expect(mode(path.join(demoDir, "demo-keys.json"))).toBe(0o600);
    fs.writeFileSync(path.join(demoDir, "hub-secret"), "s".repeat(43), { mode: 0o644 });
    expect(resolveHubSecret(loadConfig({ DATA_DIR: demoDir }))).toBe("s".repeat(43));
    expect(mode(path.join(demoDir, "hub-secret"))).toBe(0o600);
  });

  it("writes rejects files owner-only, also over an existing one", async () => {
    const rejectsPath = path.join(tempDir(), "register.rejects.ndjson");
    fs.writeFileSync(rejectsPath, "", { mode: 0o644 });
    const summary = await importStream(tempServices().register, Readable.from([Buffer.from('{"number": "x"}\n')]), { format: "ndjson", rejectsPath });
    expect(summary.rejected).toBe(1);
    expect(mode(rejectsPath)).toBe(0o600);
  });

  it("keeps a private redis-server's folder owner-only", async () => {
    const dataDir = path.join(tempDir(), "data");
    const handle = await findOrStartRedis({ redisUrl: null, dataDir, localUrl: `redis://127.0.0.1:${await findFreePort()}`, persist: false });
    try {
      expect(handle.source).toBe("child");
      expect([mode(dataDir), mode(path.join(dataDir, "redis"))]).toEqual([0o700, 0o700]);
    } finally {
      await handle.stop();
    }
  });
});
