import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUEING_GRACE_MS } from "../../src/imports/import-sweep.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const SECRET = "SECRET NAME";
const good = (n: number) => JSON.stringify({ number: v2023(n), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "HYGIENE, TEST" });

/** Uploads leave nothing behind, and nothing from the file reaches Redis, the status or the rejects. */
describe("import files and messages", () => {
  let hub: TestHub;
  let issuer: string;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    issuer = hub.key("ISSUER");
  });
  afterAll(() => hub.close());

  const upload = (body: string, contentType = "application/x-ndjson") =>
    fetch(`${hub.api.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${issuer}`, "content-type": contentType }, body });
  const get = async (url: string) => fetch(`${hub.api.url}${url}`, { headers: { authorization: `Bearer ${issuer}` } });
  const finished = async (id: string) => {
    await eventually(async () => ["completed", "failed"].includes(((await (await get(`/imports/${id}`)).json()) as any).state), 30_000, "import finished");
    return (await (await get(`/imports/${id}`)).json()) as any;
  };
  const jobHash = async (id: string) => JSON.stringify(await hub.runtime.queues.connection.hgetall(`${hub.config.queuePrefix}:imports.run:${id}`));
  const leftovers = () => fs.readdirSync(path.join(hub.config.dataDir, "imports")).filter((name) => !name.endsWith(".rejects.ndjson"));

  it("a failed import (bad CSV header) keeps no upload and says nothing of the file in its status or in Redis", async () => {
    const response = await upload(`number,${SECRET}\n${v2023(1)},x\n`, "text/csv");
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const status = await finished(id);
    expect(status.state).toBe("failed");
    expect(status.error).toMatch(/CSV header/);
    expect(JSON.stringify(status)).not.toContain(SECRET);
    const hash = await jobHash(id);
    expect(hash).toContain("failedReason");
    expect(hash).not.toContain(SECRET);
    expect(hash).not.toMatch(/at .*\.ts:\d+/); // no stack
    expect(leftovers()).toEqual([]);
  });

  it("rejects quote nothing from the file, neutralize formulas, and the upload is gone after the import", async () => {
    const formula = '=HYPERLINK("http://evil.example/","click")';
    const lines = [
      good(2),
      JSON.stringify({ number: SECRET, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: SECRET }),
      JSON.stringify({ number: v2023(3), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "X", [SECRET]: 1 }),
      JSON.stringify({ number: formula, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: formula }),
      JSON.stringify({ number: v2023(4), validFrom: formula, validUntil: "2033-12-31", englishName: formula }),
      `{"number": "${SECRET}", "validFrom": "2024`,
    ];
    const { id } = (await (await upload(`${lines.join("\n")}\n`)).json()) as { id: string };
    const status = await finished(id);
    expect(status.summary).toMatchObject({ read: 6, created: 1, rejected: 5 });
    const rejectsText = await (await get(status.rejectsUrl)).text();
    const rejects = rejectsText.trim().split("\n").map((line) => JSON.parse(line));
    expect(rejects.map((r) => r.line)).toEqual([2, 3, 4, 5, 6]);
    for (const text of [rejectsText, JSON.stringify(status), await jobHash(id)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain("HYPERLINK");
    }
    const cells = rejects.flatMap((r) => Object.values(r).filter((v): v is string => typeof v === "string"));
    expect(cells.filter((cell) => /^[=+\-@\t\r]/.test(cell))).toEqual([]);
    expect(leftovers()).toEqual([]);
  });

  it("keeps no file after an upload that is refused or cut off", async () => {
    expect((await upload("")).status).toBe(400);
    const controller = new AbortController();
    const body = new ReadableStream({
      start(stream) {
        stream.enqueue(new TextEncoder().encode(`${good(5)}\n{"englishName": "${SECRET}"`));
        setTimeout(() => controller.abort(), 200);
      },
    });
    await fetch(`${hub.api.url}/imports`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuer}`, "content-type": "application/x-ndjson" },
      body,
      signal: controller.signal,
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    await eventually(() => leftovers().length === 0, 5000, "no partial upload left");
  });

  it("removes the upload of a job removed before it ran, and the rejects of a removed job, at the next import", { timeout: 30_000 }, async () => {
    const queue = hub.runtime.queues.imports;
    const withRejects = (await (await upload(`${good(8)}\n{"number": "x"}\n`)).json()) as { id: string };
    expect((await finished(withRejects.id)).rejectsUrl).not.toBeNull();
    await queue.pause();
    const removed = (await (await upload(`${good(9)}\n`)).json()) as { id: string };
    expect(leftovers()).toEqual([`${removed.id}.ndjson`]);
    await (await queue.getJob(removed.id))!.remove();
    await (await queue.getJob(withRejects.id))!.remove();
    await queue.resume();
    await new Promise((resolve) => setTimeout(resolve, QUEUEING_GRACE_MS + 500));
    const next = (await (await upload(`${good(10)}\n`)).json()) as { id: string };
    await finished(next.id);
    const ofRemoved = () => fs.readdirSync(path.join(hub.config.dataDir, "imports")).filter((name) => name.startsWith(removed.id) || name.startsWith(withRejects.id));
    await eventually(() => ofRemoved().length === 0, 5000, "files of removed jobs swept");
  });

  it("accepts only the documented media types (415 otherwise)", async () => {
    for (const type of ["text/html", "text/plain", "application/json", "application/x-www-form-urlencoded"]) {
      const response = await upload(`${good(6)}\n`, type);
      expect(response.status, type).toBe(415);
      expect(((await response.json()) as any).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    }
    const conflicting = await fetch(`${hub.api.url}/imports?format=csv`, { method: "POST", headers: { authorization: `Bearer ${issuer}`, "content-type": "application/x-ndjson" }, body: "x" });
    expect(conflicting.status).toBe(415);
    for (const [type, query] of [["application/ndjson", ""], ["application/octet-stream", "?format=ndjson"], ["application/x-ndjson; charset=utf-8", ""]]) {
      const response = await fetch(`${hub.api.url}/imports${query}`, { method: "POST", headers: { authorization: `Bearer ${issuer}`, "content-type": type }, body: `${good(7)}\n` });
      expect(response.status, type).toBe(202);
      await finished(((await response.json()) as { id: string }).id);
    }
    expect(leftovers()).toEqual([]);
  });
});
