import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";

/**
 * What the log says about Redis (src/redis/redis-connection-state.ts, src/redis/bullmq-console.ts),
 * against real redis-servers: an outage of a few seconds, under a hub whose api and worker have a
 * dozen Redis clients retrying, is one line when it begins and one when it ends; BullMQ's own
 * console warnings arrive as one JSON line through the hub's logger, not as plain text per
 * connection.
 */

type Entry = Record<string, unknown>;

/** Lines about Redis's reachability: everything a reader would count as "Redis is down" noise. */
function aboutRedis(entry: Entry): boolean {
  return /redis|ECONNREFUSED|Connection is closed|worker error|queue error/i.test(JSON.stringify(entry));
}

describe("the log during a Redis outage", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  afterEach(async () => {
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await hub?.close();
    await redis?.destroy();
    hub = undefined;
    redis = undefined;
  });

  it("is one line when Redis goes and one when it is back, with the errors counted, not one per client per retry", async () => {
    redis = await PrivateRedis.start();
    const logs: Entry[] = [];
    hub = await TestHub.start({ REDIS_URL: redis.url, REDIS_CHECK_MS: "200" }, undefined, { worker: true, log: (entry) => logs.push(entry) });
    await new Promise((resolve) => setTimeout(resolve, 500)); // the start's own lines (schedules made) are written
    const before = logs.length;

    await redis.stop("SIGKILL");
    await eventually(() => hub!.runtime.health.has("redis-unavailable"), 10_000, "the hub noticing");
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // every client retries meanwhile
    await redis.start();
    await eventually(() => !hub!.runtime.health.has("redis-unavailable"), 15_000, "the hub noticing Redis is back");
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // stragglers, if any, would be logged by now

    const during = logs.slice(before).filter(aboutRedis);
    const down = during.filter((entry) => entry.code === "redis-unavailable" && entry.level === "error");
    const back = during.filter((entry) => entry.code === "redis-unavailable" && entry.msg === "health: cleared");
    expect(down, JSON.stringify(during, null, 1)).toHaveLength(1);
    expect(back).toHaveLength(1);
    // The errors were there (a dozen clients, several retries each), and only counted.
    expect(back[0].connectionErrors as number).toBeGreaterThan(10);
    expect(back[0].downMs as number).toBeGreaterThanOrEqual(3_000);
    // Beside the two, at most a few lines (the relay's and the reconciler's own failed passes, each at most once per 10 s).
    expect(during.length, JSON.stringify(during, null, 1)).toBeLessThanOrEqual(5);
  }, 60_000);
});

describe("BullMQ's console warnings", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  const realWarn = console.warn;
  afterEach(async () => {
    await hub?.close();
    await redis?.destroy();
    console.warn = realWarn;
    hub = undefined;
    redis = undefined;
  });

  it("go through the hub's JSON logger once (not once per connection), and console.warn is the same after the hub closes", async () => {
    redis = await PrivateRedis.start({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] });
    const printed: unknown[][] = [];
    const recorder = (...args: unknown[]): void => void printed.push(args);
    console.warn = recorder;
    const logs: Entry[] = [];
    hub = await TestHub.start({ REDIS_URL: redis.url }, undefined, { worker: true, log: (entry) => logs.push(entry) });
    const fromBullmq = (): Entry[] => logs.filter((entry) => entry.source === "bullmq");
    await eventually(() => fromBullmq().length > 0, 10_000, "BullMQ's warning in the hub's log");
    await new Promise((resolve) => setTimeout(resolve, 500)); // every queue and worker connection has checked by now
    expect(fromBullmq()).toEqual([{ level: "warn", msg: 'bullmq: IMPORTANT! Eviction policy is allkeys-lru. It should be "noeviction"', source: "bullmq" }]);
    expect(printed.filter((args) => /Eviction policy/.test(String(args[0])))).toEqual([]);
    // Other warnings still reach the console.
    console.warn("something else");
    expect(printed).toContainEqual(["something else"]);
    await hub.close();
    hub = undefined;
    expect(console.warn).toBe(recorder);
  }, 30_000);
});
