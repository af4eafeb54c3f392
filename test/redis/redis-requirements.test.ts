import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { judgeRedisSettings, refuseEvictingRedis, RedisRefusedError } from "../../src/redis/redis-requirements.ts";
import { redisUrl } from "../helpers/redis.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";

/**
 * The hub checks what BullMQ needs from Redis (src/redis/redis-requirements.ts) at start, on every
 * reconnect and every REDIS_CHECK_MS, against real redis-servers started with the settings in
 * question, and says it in /readyz and the log.
 */

type LogEntry = Record<string, unknown>;

async function readyz(hub: TestHub): Promise<{ status: number; body: Record<string, unknown> }> {
  const answer = await fetch(`${hub.api.url}/readyz`);
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

const CHECK = `query ($number: String!) { checkCard(number: $number) { result } }`;

describe("what BullMQ needs from Redis", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  let logs: LogEntry[] = [];

  async function startHub(args: string[], checkMs = "200"): Promise<TestHub> {
    redis = await PrivateRedis.start({ args });
    logs = [];
    hub = await TestHub.start({ REDIS_URL: redis.url, REDIS_CHECK_MS: checkMs }, undefined, { log: (entry) => logs.push(entry) });
    return hub;
  }

  afterEach(async () => {
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await hub?.close();
    await redis?.destroy();
    hub = undefined;
    redis = undefined;
  });

  it("judges each setting: only noeviction keeps jobs, persistence is save points or an append-only file", () => {
    const ok = { policy: "noeviction", save: "", appendOnly: true, configRefused: null };
    expect(judgeRedisSettings(ok)).toEqual({ eviction: null, persistence: null, config: null });
    for (const policy of ["allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-ttl", "allkeys-random"]) {
      expect(judgeRedisSettings({ ...ok, policy }).eviction).toMatchObject({ code: "redis-eviction-policy", severity: "problem" });
    }
    expect(judgeRedisSettings({ ...ok, appendOnly: false }).persistence).toMatchObject({ code: "redis-not-persistent", severity: "warning" });
    expect(judgeRedisSettings({ ...ok, appendOnly: false, save: "3600 1" }).persistence).toBeNull();
    const refused = judgeRedisSettings({ policy: null, save: null, appendOnly: null, configRefused: "ERR unknown command 'config'" });
    expect(refused).toMatchObject({ eviction: null, persistence: null, config: { code: "redis-config-unreadable", severity: "warning" } });
    expect(refused.config!.detail).toMatch(/could not verify that maxmemory-policy is noeviction/);
  });

  it("an evicting Redis makes the hub not ready, logged with the fix; CONFIG SET noeviction makes it ready within the check interval", async () => {
    await startHub(["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"]);
    const answer = await readyz(hub!);
    expect(answer.status).toBe(503);
    expect(answer.body.problems).toContain("redis-eviction-policy");
    const logged = logs.find((entry) => entry.code === "redis-eviction-policy");
    expect(logged).toMatchObject({ source: "redis.eviction" });
    expect(["warn", "error"]).toContain(logged!.level);
    expect(logged!.msg).toContain("allkeys-lru");
    expect(logged!.msg).toContain("CONFIG SET maxmemory-policy noeviction");
    expect(logged!.msg).toContain("redis.conf");

    const admin = new Redis(redis!.url);
    try {
      await admin.config("SET", "maxmemory-policy", "noeviction");
    } finally {
      admin.disconnect();
    }
    await eventually(async () => (await readyz(hub!)).status === 200, 15_000, "the hub ready again");
    expect((await readyz(hub!)).body).toEqual({ status: "ready" });
    expect(logs.some((entry) => entry.msg === "health: cleared" && entry.code === "redis-eviction-policy")).toBe(true);
  });

  it("a Redis that keeps nothing on disk: ready, with the warning redis-not-persistent", async () => {
    await startHub(["--save", "", "--appendonly", "no"]);
    const answer = await readyz(hub!);
    expect(answer).toEqual({ status: 200, body: { status: "ready", warnings: ["redis-not-persistent"] } });
    expect(logs.find((entry) => entry.code === "redis-not-persistent")).toMatchObject({ level: "warn", msg: expect.stringContaining("appendonly yes") });
  });

  it("CONFIG disabled: a warning that the policy could not be verified, not a crash; after a reconnect the policy is read from INFO", async () => {
    // A check interval of an hour: only the start and the reconnect can check.
    await startHub(["--rename-command", "CONFIG", ""], "3600000");
    expect(await readyz(hub!)).toEqual({ status: 200, body: { status: "ready", warnings: ["redis-config-unreadable"] } });
    expect(logs.find((entry) => entry.code === "redis-config-unreadable")).toMatchObject({ level: "warn", msg: expect.stringContaining("CONFIG GET") });

    // The same server restarted with an evicting policy (as a managed Redis with its default
    // parameter group would be): the hub reconnects, checks again and finds it in INFO.
    await redis!.stop();
    await redis!.start(["--rename-command", "CONFIG", "", "--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"]);
    await eventually(async () => ((await readyz(hub!)).body.problems as string[] | undefined)?.includes("redis-eviction-policy") ?? false, 15_000, "the eviction policy found after the reconnect");
    expect(await readyz(hub!)).toEqual({ status: 503, body: { status: "not ready", problems: ["redis-eviction-policy"], warnings: ["redis-config-unreadable"] } });
    expect(logs.find((entry) => entry.code === "redis-eviction-policy")!.msg).toContain("volatile-lru");
  });

  it("Redis unreachable: not ready with redis-unavailable while the api keeps answering lookups; ready again once it is back", async () => {
    await startHub([]);
    const partner = hub!.partnerKey(["CARDS_CHECK"]).secret;
    expect((await readyz(hub!)).body).toEqual({ status: "ready" });

    await redis!.stop("SIGKILL");
    await eventually(async () => (await readyz(hub!)).status === 503, 15_000, "the hub noticing Redis is gone");
    expect((await readyz(hub!)).body).toEqual({ status: "not ready", problems: ["redis-unavailable"] });
    const number = makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1980-01-01", sequence: 1 });
    const check = await hub!.gql(partner, CHECK, { number });
    expect(check.errors).toBeUndefined();
    expect(check.data.checkCard.result).toBe("NOT_FOUND");

    await redis!.start();
    await eventually(async () => (await readyz(hub!)).status === 200, 15_000, "the hub ready once Redis is back");
    expect((await readyz(hub!)).body).toEqual({ status: "ready" });
  });
});

describe("an evicting Redis in production", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    await redis?.destroy();
    hub = undefined;
    redis = undefined;
  });
  const PRODUCTION = { NODE_ENV: "production" };

  it("is refused at start, naming the policy, the fix and REDIS_ALLOW_EVICTION; noeviction is let through", async () => {
    redis = await PrivateRedis.start({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] });
    const refused = await TestHub.start({ ...PRODUCTION, REDIS_URL: redis.url }).then(
      () => null,
      (error: Error) => error,
    );
    expect(refused).toBeInstanceOf(RedisRefusedError);
    expect(refused!.message).toMatch(/maxmemory-policy allkeys-lru; BullMQ needs noeviction/);
    expect(refused!.message).toContain("CONFIG SET maxmemory-policy noeviction");
    expect(refused!.message).toContain("REDIS_ALLOW_EVICTION=1");
    await expect(refuseEvictingRedis(redisUrl())).resolves.toBeUndefined();
  });

  it("with REDIS_ALLOW_EVICTION=1 starts, ready, with the warning redis-eviction-policy", async () => {
    redis = await PrivateRedis.start({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"] });
    hub = await TestHub.start({ ...PRODUCTION, REDIS_URL: redis.url, REDIS_ALLOW_EVICTION: "1" });
    expect(await readyz(hub)).toEqual({ status: 200, body: { status: "ready", warnings: ["redis-eviction-policy"] } });
    expect(judgeRedisSettings({ policy: "volatile-lru", save: "", appendOnly: true, configRefused: null }, { allowEviction: true }).eviction).toMatchObject({ severity: "warning" });
  });

  it("in development is started on, not ready (redis-eviction-policy), as before", async () => {
    redis = await PrivateRedis.start({ args: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"] });
    hub = await TestHub.start({ NODE_ENV: "development", REDIS_URL: redis.url });
    expect((await readyz(hub)).status).toBe(503);
  });
});
