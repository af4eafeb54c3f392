import fs from "node:fs";
import path from "node:path";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IMPORT_FAILURES } from "../../src/imports/import-failures.ts";
import { TestHub, tempDir } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const record = (n: number) => JSON.stringify({ number: v2023(n), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "JOB, TEST" });

/** Only the issuer writes the register, and the import worker trusts nothing in a job's data. */
describe("import authority and job data", () => {
  let hub: TestHub;
  beforeAll(async () => {
    // DATA_DIR one level down, so "../../x" lands in this test's own temporary folder.
    hub = await TestHub.start({ DATA_DIR: path.join(tempDir(), "data") }, undefined, { worker: true });
  });
  afterAll(() => hub.close());

  const cards = () => (hub.services.db.$client.prepare("SELECT count(*) AS n FROM cards").get() as { n: number }).n;
  const importsDir = () => path.join(hub.config.dataDir, "imports");
  const finished = async (id: string): Promise<Job> => {
    await eventually(async () => ["failed", "completed"].includes(await (await hub.runtime.queues.imports.getJob(id))!.getState()), 20_000, `job ${id} finished`);
    return (await hub.runtime.queues.imports.getJob(id))!;
  };

  it("refuses POST /imports to an ADMIN key (403 FORBIDDEN) and leaves the register unchanged", async () => {
    const before = cards();
    const response = await fetch(`${hub.api.url}/imports`, {
      method: "POST",
      headers: { authorization: `Bearer ${hub.key("ADMIN")}`, "content-type": "application/x-ndjson" },
      body: `${record(1)}\n${record(2)}\n`,
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe("FORBIDDEN");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cards()).toBe(before);
    expect(await hub.runtime.queues.imports.getJobs(["waiting", "active", "completed", "failed"])).toEqual([]);
  });

  it("fails a job whose importId walks out of DATA_DIR unrecoverably, reading and deleting nothing", async () => {
    const outside = path.join(path.dirname(hub.config.dataDir), "x.ndjson");
    fs.writeFileSync(outside, `${record(3)}\n`);
    const before = cards();
    for (const [jobId, data] of [
      ["walk-1", { importId: "../../x", format: "ndjson", issuerKeyId: "key_AAAAAAAAAAAA" }],
      ["walk-2", { importId: "../../x", format: "ndjson" }],
      ["imp_AAAAAAAAAAAA", { importId: "imp_AAAAAAAAAAAA", format: "../x" }],
    ] as const) {
      await hub.runtime.queues.imports.add("import", data as never, { jobId, attempts: 3 });
      const job = await finished(jobId);
      expect(await job.getState()).toBe("failed");
      expect(job.attemptsMade).toBe(1); // unrecoverable: no retry
      expect(job.failedReason).toMatch(/^invalid import job: [a-zA-Z ]+$/);
      expect(job.stacktrace).toEqual([]);
    }
    expect(fs.readFileSync(outside, "utf8")).toBe(`${record(3)}\n`);
    expect(cards()).toBe(before);
  });

  it("fails every malformed job payload the same way, without a retry or a stack", async () => {
    const id = "imp_CCCCCCCCCCCC";
    const valid = { importId: id, format: "ndjson", issuerKeyId: "key_AAAAAAAAAAAA" };
    const payloads: unknown[] = [
      null, "imp_CCCCCCCCCCCC", 42, [], [valid], {},
      { ...valid, importId: `${id}\n` }, { ...valid, importId: "imp_CCCCCCCCCCC/" }, { ...valid, importId: { $gt: "" } },
      { ...valid, format: "NDJSON" }, { ...valid, format: ["ndjson"] }, { ...valid, format: "ndjson/../../x" },
      { ...valid, issuerKeyId: null }, { ...valid, issuerKeyId: "key_../../../../" }, { ...valid, extra: "=HYPERLINK()" },
      { ...valid, __proto__: { importId: id } }, { format: "ndjson", issuerKeyId: valid.issuerKeyId },
    ];
    for (const [n, data] of payloads.entries()) {
      const jobId = `fuzz-${n}`;
      // The import id must also be the job's id: here it never is, or the data is malformed.
      await hub.runtime.queues.imports.add("import", data as never, { jobId, attempts: 2 });
      const job = await finished(jobId);
      expect([job.failedReason, job.attemptsMade, job.stacktrace], JSON.stringify(data)).toEqual([expect.stringMatching(/^invalid import job: [a-zA-Z ]+$/), 1, []]);
    }
  });

  it("runs an upload's job only for the ISSUER key that queued it, and never one forged for another key", async () => {
    const issuerKey = hub.services.apiKeys.create({ role: "ISSUER" });
    const adminKey = hub.services.apiKeys.create({ role: "ADMIN" });
    fs.mkdirSync(importsDir(), { recursive: true });
    const before = cards();
    // A file planted where an upload would be, and a job naming an ADMIN key (as a writable board could add).
    fs.writeFileSync(path.join(importsDir(), "imp_BBBBBBBBBBBB.ndjson"), `${record(4)}\n`);
    await hub.runtime.queues.imports.add("import", { importId: "imp_BBBBBBBBBBBB", format: "ndjson", issuerKeyId: adminKey.apiKey.id }, { jobId: "imp_BBBBBBBBBBBB" });
    expect((await finished("imp_BBBBBBBBBBBB")).failedReason).toBe(IMPORT_FAILURES.notIssuer);
    expect(cards()).toBe(before);
    expect(fs.existsSync(path.join(importsDir(), "imp_BBBBBBBBBBBB.ndjson"))).toBe(false);

    // An upload whose issuer key is revoked before the worker runs it is not imported either.
    const queue = hub.runtime.queues.imports;
    await queue.pause();
    const upload = await fetch(`${hub.api.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${issuerKey.secret}`, "content-type": "application/x-ndjson" }, body: `${record(5)}\n` });
    expect(upload.status).toBe(202);
    const { id } = (await upload.json()) as { id: string };
    hub.services.apiKeys.revoke(issuerKey.apiKey.id);
    await queue.resume();
    expect((await finished(id)).failedReason).toBe(IMPORT_FAILURES.notIssuer);
    expect(cards()).toBe(before);
    expect(fs.readdirSync(importsDir()).filter((name) => name.startsWith(id))).toEqual([]);
  });
});
