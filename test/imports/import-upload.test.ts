import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticRecords } from "../../src/demo/synthetic-file.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually } from "../helpers/receiver.ts";

describe("import over HTTP as a BullMQ job", () => {
  let hub: TestHub;
  let issuer: string;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    issuer = hub.key("ISSUER");
  });
  afterAll(() => hub.close());

  const upload = (body: string, key: string | null, contentType = "application/x-ndjson") =>
    fetch(`${hub.api.url}/imports`, { method: "POST", headers: { "content-type": contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) }, body });
  const status = async (id: string) => (await (await fetch(`${hub.api.url}/imports/${id}`, { headers: { authorization: `Bearer ${issuer}` } })).json()) as any;

  it("accepts a file, loads it in the worker, and reports progress, summary and rejected rows", async () => {
    const lines = [...syntheticRecords({ cards: 1500, seed: 11, asOf: "2026-01-01" })].map((r) => JSON.stringify(r));
    lines.splice(700, 0, '{"number": "nope", "validFrom": "2024-01-01", "validUntil": "2030-01-01", "englishName": "X"}');
    const response = await upload(lines.join("\n"), issuer);
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as any;
    expect(accepted).toMatchObject({ id: expect.stringMatching(/^imp_/), statusUrl: `/imports/${accepted.id}` });
    await eventually(async () => (await status(accepted.id)).state === "completed", 60_000, "import completed");
    const done = await status(accepted.id);
    expect(done.summary).toMatchObject({ read: 1501, created: 1500, unchanged: 0, rejected: 1 });
    expect(done.progress).toMatchObject({ read: 1501, rejected: 1 });
    const rejects = await fetch(`${hub.api.url}${done.rejectsUrl}`, { headers: { authorization: `Bearer ${issuer}` } });
    expect((await rejects.text()).trim().split("\n").map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ line: 701, code: "INVALID_CARD_NUMBER" })]);
    const cards = hub.services.db.$client.prepare("SELECT count(*) AS n FROM cards").get() as { n: number };
    expect(cards.n).toBe(1500);
  }, 90_000);

  it("refuses callers without the issuer role, empty uploads and unknown imports", async () => {
    expect((await upload("{}", null)).status).toBe(401);
    const partner = hub.partnerKey().secret;
    const forbidden = await upload("{}", partner);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).errors[0].extensions.code).toBe("FORBIDDEN");
    expect((await upload("", issuer)).status).toBe(400);
    expect((await fetch(`${hub.api.url}/imports/imp_AAAAAAAAAAAA`, { headers: { authorization: `Bearer ${issuer}` } })).status).toBe(404);
    expect((await fetch(`${hub.api.url}/imports/../../etc/passwd`, { headers: { authorization: `Bearer ${issuer}` } })).status).toBe(404);
    const badFormat = await fetch(`${hub.api.url}/imports?format=xml`, { method: "POST", headers: { authorization: `Bearer ${issuer}` }, body: "{}" });
    expect(badFormat.status).toBe(400);
  });
});
