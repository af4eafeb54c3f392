import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";

/**
 * The probes against a Redis that hangs (a real redis-server under `CLIENT PAUSE 6000 ALL`) and
 * a database that is gone: /readyz answers before the pause ends and says not ready; /livez and
 * /healthz answer ok whatever Redis and the database do, on the api port and the operations
 * listener alike.
 */

const PAUSE_MS = 6_000;

async function probe(url: string): Promise<{ status: number; body: { status: string; problems?: string[] }; at: number }> {
  const answer = await fetch(url);
  return { status: answer.status, body: (await answer.json()) as { status: string; problems?: string[] }, at: Date.now() };
}

describe("probes while Redis hangs", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    await redis?.destroy();
    hub = undefined;
    redis = undefined;
  });

  it("/readyz answers 503 redis-unavailable before a CLIENT PAUSE ends, /livez and /healthz 200; ready again after it", async () => {
    redis = await PrivateRedis.start();
    hub = await TestHub.start({ REDIS_URL: redis.url, OPS_PORT: "0" });
    const bases = [hub.api.url, hub.api.opsUrl!];
    for (const base of bases) expect((await probe(`${base}/readyz`)).status).toBe(200);

    const admin = new Redis(redis.url);
    let pauseEnds: number;
    try {
      // The pause begins when Redis runs the command, so it ends no earlier than this.
      pauseEnds = Date.now() + PAUSE_MS;
      await admin.client("PAUSE", String(PAUSE_MS), "ALL");
    } finally {
      admin.disconnect();
    }
    for (const base of bases) {
      const ready = await probe(`${base}/readyz`);
      expect(ready.at).toBeLessThan(pauseEnds);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: "not ready", problems: ["redis-unavailable"] });
      for (const path of ["/livez", "/healthz"]) {
        const alive = await probe(`${base}${path}`);
        expect(alive.at).toBeLessThan(pauseEnds);
        expect(alive).toMatchObject({ status: 200, body: { status: "ok" } });
      }
    }
    // Several probes at once while it hangs: each answered, before the pause ends.
    const many = await Promise.all(Array.from({ length: 5 }, () => probe(`${hub!.api.url}/readyz`)));
    for (const answer of many) {
      expect(answer.at).toBeLessThan(pauseEnds);
      expect(answer.status).toBe(503);
    }
    await eventually(async () => (await probe(`${hub!.api.url}/readyz`)).status === 200, PAUSE_MS + 10_000, "/readyz ready after the pause");
  }, 30_000);

  it("/livez and /healthz answer while the database is gone; /readyz says database-unavailable", async () => {
    hub = await TestHub.start({});
    hub.services.db.$client.close();
    for (const path of ["/livez", "/healthz"]) expect(await probe(`${hub.api.url}${path}`)).toMatchObject({ status: 200, body: { status: "ok" } });
    const ready = await probe(`${hub.api.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.problems).toContain("database-unavailable");
  });
});
