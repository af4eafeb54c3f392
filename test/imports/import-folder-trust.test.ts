/**
 * What the hub trusts in DATA_DIR/imports (found by an adversarial review): the rejects file is
 * never written through a symlink, and a folder that is a symlink or another user's is refused.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "../../jobs/worker.ts";
import { TestHub, tempDir } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";

const BAD_LINE = "not json\n";

describe("files under DATA_DIR/imports", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function hubWithoutWorker(overrides: Record<string, string> = {}) {
    const hub = await TestHub.start(overrides);
    closers.push(() => hub.close());
    return hub;
  }
  const upload = async (hub: TestHub, key: string, body: string) => {
    const response = await fetch(`${hub.api.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const runWorker = async (hub: TestHub) => {
    const worker: WorkerHandle = await startWorker(hub.runtime);
    closers.push(() => worker.close());
  };
  const finished = (hub: TestHub, id: string) =>
    eventually(async () => ["completed", "failed"].includes((await hub.runtime.queues.imports.getJobState(id)) as string), 30_000, "import finished");

  it("never writes the rejects through a symlink planted at <id>.rejects.ndjson", async () => {
    const hub = await hubWithoutWorker();
    const id = await upload(hub, hub.key("ISSUER"), BAD_LINE);
    // Anyone who can write the folder (or a shared DATA_DIR, see below) plants a link before the job runs.
    const victim = path.join(tempDir("fpr-victim-"), "precious.db");
    fs.writeFileSync(victim, "PRECIOUS DATA THAT MUST SURVIVE\n", { mode: 0o644 });
    fs.symlinkSync(victim, path.join(hub.config.dataDir, "imports", `${id}.rejects.ndjson`));
    await runWorker(hub);
    await finished(hub, id);
    expect(fs.readFileSync(victim, "utf8"), "the symlink target was overwritten by the rejects").toContain("PRECIOUS");
  });

  it("refuses a DATA_DIR/imports that is a symlink to another folder (no upload lands there)", async () => {
    const dataDir = tempDir();
    const elsewhere = tempDir("fpr-elsewhere-");
    fs.chmodSync(elsewhere, 0o777);
    fs.symlinkSync(elsewhere, path.join(dataDir, "imports"));
    const hub = await hubWithoutWorker({ DATA_DIR: dataDir });
    let refused = false;
    try {
      await upload(hub, hub.key("ISSUER"), `${JSON.stringify({ englishName: "SECRET, NAME" })}\n`);
    } catch {
      refused = true;
    }
    const landed = fs.readdirSync(elsewhere);
    expect({ refused, landed }, "the upload was stored through the symlink").toEqual({ refused: true, landed: [] });
  });

  it("refuses a DATA_DIR/imports created beforehand by another user", async () => {
    const dataDir = tempDir();
    fs.chmodSync(dataDir, 0o777); // an operator's shared folder ("an existing folder is left as it is")
    const imports = path.join(dataDir, "imports");
    fs.mkdirSync(imports, { mode: 0o777 });
    fs.chownSync(imports, 65534, 65534); // nobody got there first (the folder is created at the first upload)
    const hub = await hubWithoutWorker({ DATA_DIR: dataDir });
    let refused = false;
    try {
      await upload(hub, hub.key("ISSUER"), BAD_LINE);
    } catch {
      refused = true;
    }
    const owner = fs.statSync(imports).uid;
    // As its owner, nobody may rename, replace or link any upload or rejects file in it
    // (swap an upload before the worker reads it: records imported with the ISSUER's authority).
    expect(refused || owner === process.getuid!(), `imports folder owned by uid ${owner}, used anyway`).toBe(true);
  });

  it("files the hub writes are owner-only (database, wal, shm, hub-secret, demo keys, imports)", async () => {
    const dataDir = tempDir();
    const old = process.umask(0o022);
    try {
      const hub = await TestHub.start({ DATA_DIR: dataDir, DEMO_SEED: "on", HUB_SECRET: "" }, undefined, { worker: true });
      closers.push(() => hub.close());
      await upload(hub, hub.key("ISSUER"), BAD_LINE);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const modes: Record<string, string> = {};
      const walk = (dir: string) => {
        for (const name of fs.readdirSync(dir)) {
          const file = path.join(dir, name);
          const stat = fs.lstatSync(file);
          modes[path.relative(dataDir, file)] = (stat.mode & 0o777).toString(8);
          if (stat.isDirectory()) walk(file);
        }
      };
      walk(dataDir);
      const loose = Object.entries(modes).filter(([, mode]) => mode !== "600" && mode !== "700");
      expect(loose, JSON.stringify(modes)).toEqual([]);
    } finally {
      process.umask(old);
    }
  });
});
