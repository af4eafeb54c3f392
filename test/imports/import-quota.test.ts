import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

const record = (n: number) => JSON.stringify({ number: v2023(n), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "QUOTA, TEST" });

/** No worker here: uploads stay queued, so the per-key quota can be reached. */
describe("import quotas", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ IMPORT_MAX_PER_KEY: "2", IMPORT_MAX_BYTES: "2048" });
  });
  afterAll(() => hub.close());

  const upload = (key: string, body: string | ReadableStream) =>
    fetch(`${hub.api.url}/imports`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" }, body, duplex: "half" } as RequestInit);
  const files = () => fs.readdirSync(path.join(hub.config.dataDir, "imports"));

  it("refuses an upload larger than IMPORT_MAX_BYTES (413), declared or streamed, and keeps nothing of it", async () => {
    const key = hub.key("ISSUER");
    const big = `${record(1)}\n`.repeat(40); // ~4 KB
    const declared = await upload(key, big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as any).errors[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" }, message: expect.stringMatching(/2048 bytes/) });
    const chunk = new TextEncoder().encode(`${record(2)}\n`.repeat(10));
    let sent = 0;
    const streamed = new ReadableStream({
      async pull(stream) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (sent++ < 20) stream.enqueue(chunk);
        else stream.close();
      },
    });
    await upload(key, streamed).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fs.existsSync(path.join(hub.config.dataDir, "imports")) ? files() : []).toEqual([]);
  });

  it("lets an issuer key have IMPORT_MAX_PER_KEY imports at once, then answers 429 RATE_LIMITED", async () => {
    const key = hub.key("ISSUER");
    const answers = await Promise.all([1, 2, 3].map((n) => upload(key, `${record(10 + n)}\n`)));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 429]);
    const refused = (await answers.find((a) => a.status === 429)!.json()) as any;
    expect(refused.errors[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" }, message: expect.stringMatching(/at most 2 imports/) });
    expect((await upload(key, `${record(14)}\n`)).status).toBe(429);
    // The quota is per key: another issuer key may upload.
    expect((await upload(hub.key("ISSUER"), `${record(15)}\n`)).status).toBe(202);
    // A refused upload leaves no file: two of the first key's, one of the other's.
    expect(files().filter((name) => name.endsWith(".ndjson"))).toHaveLength(3);
  });
});
