import { afterAll, describe, expect, it } from "vitest";
import { openRuntime, type HubRuntime } from "../../src/app/runtime.ts";
import { DelayProxy } from "../helpers/delay-proxy.ts";
import { redisUrl } from "../helpers/redis.ts";
import { testConfig, TestHub } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * Attack on issue 11 (database identity): an api and a worker process on ONE database, each
 * running its own outbox relay. The worker's relay reads the database's highest sequence, then
 * asks Redis to raise the high-water mark to it; if the api commits an event and its relay raises
 * the mark in between, the worker's (stale) number is below the mark. The database is not behind
 * anything: its own sibling moved the mark. It must not be taken for a restored database (a
 * renewed identity orphans every queued job id, and the warning tells operators of a restore that
 * never happened).
 *
 * The worker's link to Redis goes through a loopback proxy that holds its commands 300 ms, so the
 * window is wide enough to hit on purpose; on a real network it is hit by chance.
 */
describe("api and worker relays on one database", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("a sibling process raising the high-water mark is not a restore: the identity stays", async () => {
    const hub = await TestHub.start();
    cleanups.push(() => hub.close());
    const issuer = hub.key("ISSUER");
    await issue(hub, issuer, v2023(1));
    await hub.runtime.relay.drain();
    const target = new URL(redisUrl());
    const proxy = await DelayProxy.start({ host: target.hostname, port: Number(target.port) }, 300);
    cleanups.push(() => proxy.close());
    const logs: Record<string, unknown>[] = [];
    const worker: HubRuntime = await openRuntime(testConfig({ DATA_DIR: hub.config.dataDir, QUEUE_PREFIX: hub.config.queuePrefix, REDIS_URL: proxy.url }), {
      log: (entry) => void logs.push(entry),
    });
    cleanups.push(() => worker.close());
    const before = hub.services.identity.id;

    for (let i = 2; i < 6; i++) {
      // The worker's relay reads the highest sequence and sends its mark (held by the proxy)...
      const workerPass = worker.relay.drain().catch(() => 0);
      // ...the api commits an event, and its relay raises the mark first.
      await issue(hub, issuer, v2023(i));
      await hub.runtime.relay.drain();
      await workerPass;
    }

    expect(logs.filter((entry) => String(entry.msg).includes("behind the event ids"))).toEqual([]);
    expect(hub.services.identity.id).toBe(before);
  });
});
