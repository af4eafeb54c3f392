/**
 * Abuse of POST /imports and its read routes (found by an adversarial review): ISSUER keys cannot
 * be minted through the API, aborted rejects downloads close their files, rejects files are
 * bounded, and one endless line is refused as it streams, not held whole.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";
import { MAX_REJECTS_LISTED } from "../../src/imports/import-runner.ts";
import { MAX_LINE_BYTES } from "../../src/imports/line-reader.ts";

const openFds = () => fs.readdirSync("/proc/self/fd").length;

describe("imports under abuse", () => {
  let hub: TestHub;
  let issuer: string;
  let admin: string;
  beforeAll(async () => {
    hub = await TestHub.start({ IMPORT_MAX_PER_KEY: "2" }, undefined, { worker: true });
    issuer = hub.key("ISSUER");
    admin = hub.key("ADMIN");
  });
  afterAll(() => hub.close());

  const upload = (key: string, body: string | Buffer) =>
    fetch(`${hub.api.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body });
  const status = async (key: string, id: string) => (await (await fetch(`${hub.api.url}/imports/${id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as any;
  const finished = async (key: string, id: string, ms = 60_000) => {
    await eventually(async () => ["completed", "failed"].includes((await status(key, id)).state), ms, "import finished");
    return status(key, id);
  };

  it("refuses to mint ISSUER keys through the API, so an ADMIN cannot write the register nor multiply the import quota", async () => {
    for (let i = 0; i < 3; i += 1) {
      const minted = await hub.gql(admin, "mutation { createApiKey(role: ISSUER) { secret apiKey { role } } }");
      expect(minted.errors?.[0].extensions.code).toBe("FORBIDDEN");
      expect(minted.data?.createApiKey ?? null).toBeNull();
    }
    expect(hub.services.db.$client.prepare("SELECT count(*) FROM api_keys WHERE role = 'ISSUER'").pluck().get()).toBe(1);
    // Other roles still can be created by an ADMIN.
    expect((await hub.gql(admin, "mutation { createApiKey(role: VIEWER) { apiKey { role } } }")).data.createApiKey.apiKey.role).toBe("VIEWER");
  });

  it("closes the file of every rejects download the caller hangs up on", async () => {
    const { id } = (await (await upload(issuer, "x\n".repeat(20_000))).json()) as { id: string };
    const done = await finished(issuer, id);
    expect(done.rejectsUrl).toBeTruthy();
    const before = openFds();
    const url = new URL(`${hub.api.url}${done.rejectsUrl}`);
    // 40 readers that take the headers and hang up: each one should cost nothing once gone.
    for (let i = 0; i < 40; i++) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, headers: { authorization: `Bearer ${admin}` } }, (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        });
        req.on("error", () => resolve());
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const leaked = openFds() - before;
    expect(leaked, "file descriptors still open after 40 aborted rejects downloads").toBeLessThan(5);
  });

  it("lists at most MAX_REJECTS_LISTED rejects, so a file of junk lines does not cost many times its size on disk", async () => {
    const body = "x\n".repeat(100_000); // 200 KB
    const { id } = (await (await upload(issuer, body)).json()) as { id: string };
    await finished(issuer, id);
    const rejects = path.join(hub.config.dataDir, "imports", `${id}.rejects.ndjson`);
    const size = fs.statSync(rejects).size;
    expect(fs.readFileSync(rejects, "utf8").trim().split("\n")).toHaveLength(MAX_REJECTS_LISTED);
    expect(size / body.length, "rejects bytes per uploaded byte").toBeLessThan(5);
    // The summary still counts every rejected record.
    expect((await status(issuer, id)).summary.rejected).toBe(100_000);
  });

  it("refuses a line longer than MAX_LINE_BYTES as it streams, without holding it, and reads the next lines", async () => {
    const good = JSON.stringify({ number: v2023(902), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "LONG, LINE" });
    const body = Buffer.concat([Buffer.alloc(32 * 1024 * 1024, "a"), Buffer.from(`\n${good}\n`), Buffer.alloc(MAX_LINE_BYTES + 1, "b")]);
    const { id } = (await (await upload(issuer, body)).json()) as { id: string };
    const done = await finished(issuer, id, 120_000);
    expect(done.summary).toMatchObject({ read: 3, created: 1, rejected: 2 });
    const rejects = fs.readFileSync(path.join(hub.config.dataDir, "imports", `${id}.rejects.ndjson`), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rejects.map((r: { line: number }) => r.line)).toEqual([1, 3]);
    expect(JSON.stringify(rejects)).toContain(`longer than ${MAX_LINE_BYTES} bytes`);
  }, 150_000);
});
