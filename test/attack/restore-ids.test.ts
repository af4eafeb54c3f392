import path from "node:path";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startWorker } from "../../jobs/worker.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { tempDir, TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * Attack on issue 11 (a restore from backup never reuses an event id partners may have seen).
 * A hub delivers events 1–6; its database is restored from a backup taken after event 3, on the
 * same Redis (which keeps the high-water mark, 6). The restored hub's new events must reach the
 * receiver under ids it has not seen for other events.
 */
describe("restore from backup", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function deliveredThenRestored(): Promise<{ redis: PrivateRedis; receiver: TestReceiver; seen: Set<string>; restoredDir: string; prefix: string }> {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.destroy());
    const receiver = await TestReceiver.start();
    cleanups.push(() => receiver.close());
    const hub = await TestHub.start({ REDIS_URL: redis.url }, undefined, { worker: true });
    const issuer = hub.key("ISSUER");
    receiver.secrets = [(await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, receiver.url, ["CARD_ISSUED"])).secret];
    for (let i = 1; i <= 3; i++) await issue(hub, issuer, v2023(i));
    const restoredDir = tempDir();
    await hub.services.db.$client.backup(path.join(restoredDir, "fpr-hub.sqlite"));
    for (let i = 4; i <= 6; i++) await issue(hub, issuer, v2023(i));
    await eventually(() => receiver.ids().size === 6, 30_000, "the first life's six events delivered");
    const prefix = hub.config.queuePrefix;
    await hub.close();
    return { redis, receiver, seen: new Set(receiver.ids()), restoredDir, prefix };
  }

  /** The ids under which the events for cards `numbers` reached the receiver. */
  function idsOf(receiver: TestReceiver, numbers: string[]): string[] {
    return receiver.received.filter((r) => numbers.some((n) => r.body.includes(n))).map((r) => r.id);
  }

  it("with Redis healthy at the restart, the restored hub's events continue after the mark", async () => {
    const { redis, receiver, seen, restoredDir, prefix } = await deliveredThenRestored();
    const hub = await TestHub.start({ REDIS_URL: redis.url, DATA_DIR: restoredDir, QUEUE_PREFIX: prefix }, undefined, { worker: true });
    cleanups.push(() => hub.close());
    const fresh = [v2023(101), v2023(102)];
    for (const n of fresh) await issue(hub, hub.key("ISSUER"), n);
    await eventually(() => idsOf(receiver, fresh).length >= 2, 30_000, "the restored hub's events delivered");
    expect(idsOf(receiver, fresh).filter((id) => seen.has(id))).toEqual([]);
  });

  it("with Redis refusing writes at the restart (full: maxmemory, noeviction), the restored hub's events still get unseen ids", async () => {
    const { redis, receiver, seen, restoredDir, prefix } = await deliveredThenRestored();
    const admin = new Redis(redis.url);
    cleanups.push(async () => void admin.disconnect());
    // Redis answers PING and reads, but refuses every write: the high-water check cannot run.
    await admin.config("SET", "maxmemory", "1");
    const hub = await TestHub.start({ REDIS_URL: redis.url, DATA_DIR: restoredDir, QUEUE_PREFIX: prefix });
    cleanups.push(() => hub.close());
    const fresh = [v2023(101), v2023(102)];
    for (const n of fresh) await issue(hub, hub.key("ISSUER"), n);
    // Space again in Redis; the worker starts and everything owed goes out.
    await admin.config("SET", "maxmemory", "0");
    const worker = await startWorker(hub.runtime);
    cleanups.push(() => worker.close());
    await eventually(() => idsOf(receiver, fresh).length >= 2, 30_000, "the restored hub's events delivered");
    expect(idsOf(receiver, fresh).filter((id) => seen.has(id))).toEqual([]);
  });
});
