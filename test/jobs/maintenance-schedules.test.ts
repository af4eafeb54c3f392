import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { ensureMaintenanceSchedules, maintenanceSchedules } from "../../jobs/maintenance-schedules.ts";
import { MAINTENANCE_JOBS } from "../../jobs/job-data.ts";
import { QUEUE_NAMES } from "../../jobs/queues.ts";
import { issueCard } from "../../src/cards/card-issuing.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually } from "../helpers/receiver.ts";
import { redisUrl } from "../helpers/redis.ts";
import { testConfig, TestHub } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * The maintenance schedules (jobs/maintenance-schedules.ts) come back whenever Redis lost them:
 * after a restart empty (on the reconnect), after keys vanished under a live connection (on the
 * periodic check), and ensuring them again never resets or doubles them.
 */

type Cleanup = () => Promise<void>;

describe("maintenance schedules", () => {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function maintenanceQueue(url: string, prefix: string): Queue {
    const connection = new Redis(url, { maxRetriesPerRequest: null });
    connection.on("error", () => undefined);
    const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
    queue.on("error", () => undefined);
    cleanups.push(async () => {
      await queue.close();
      connection.disconnect();
    });
    return queue;
  }

  async function schedulerIds(queue: Queue): Promise<string[]> {
    return (await queue.getJobSchedulers()).map((s) => s.key).sort();
  }

  const ALL = [...MAINTENANCE_JOBS].sort();

  it("covers every maintenance job; ensuring again neither resets nor doubles a schedule", async () => {
    const config = testConfig();
    expect(Object.keys(maintenanceSchedules(config)).sort()).toEqual(ALL);
    const queue = maintenanceQueue(redisUrl(), config.queuePrefix);

    expect((await ensureMaintenanceSchedules(queue, config)).sort()).toEqual(ALL.map((id) => `${id} (missing)`).sort());
    const before = await queue.getJobSchedulers();
    const jobs = async () => (await queue.getJobs(["waiting", "delayed", "prioritized", "active"])).map((job) => job.id).sort();
    const jobsBefore = await jobs();
    expect(jobsBefore).toHaveLength(ALL.length);

    for (let i = 0; i < 3; i += 1) expect(await ensureMaintenanceSchedules(queue, config)).toEqual([]);
    // Even BullMQ's upsert itself, called again with the same interval, keeps each next run.
    for (const [id, every] of Object.entries(maintenanceSchedules(config))) await queue.upsertJobScheduler(id, { every }, { name: id });
    expect(await queue.getJobSchedulers()).toEqual(before);
    expect(await jobs()).toEqual(jobsBefore);

    // A schedule whose next run was lost (its job gone from Redis, as when adding it failed) is
    // made again, and only that one.
    const sweep = before.find((s) => s.key === "cards.expire-sweep")!;
    const lost = `repeat:cards.expire-sweep:${sweep.next}`;
    const client = new Redis(redisUrl());
    cleanups.push(async () => void client.disconnect());
    await client.multi().del(queue.toKey(lost)).lrem(queue.toKey("wait"), 0, lost).zrem(queue.toKey("delayed"), lost).zrem(queue.toKey("prioritized"), lost).exec();
    expect(await jobs()).toHaveLength(ALL.length - 1);
    expect(await ensureMaintenanceSchedules(queue, config)).toEqual(["cards.expire-sweep (next run missing)"]);
    expect(await jobs()).toHaveLength(ALL.length);

    // A new interval is applied (as a restart with another EXPIRY_SWEEP_MS did before).
    const changed = testConfig({ EXPIRY_SWEEP_MS: "120000", QUEUE_PREFIX: config.queuePrefix });
    expect(await ensureMaintenanceSchedules(queue, changed)).toEqual(["cards.expire-sweep (interval changed)"]);
    expect((await queue.getJobScheduler("cards.expire-sweep"))!.every).toBe(120_000);
    expect(await jobs()).toHaveLength(ALL.length);
  });

  it("schedules removed under a live connection are made again by the periodic check", async () => {
    const hub = await TestHub.start({ REDIS_CHECK_MS: "2000" }, undefined, { worker: true });
    cleanups.push(() => hub.close());
    const queue = maintenanceQueue(redisUrl(), hub.config.queuePrefix);
    expect(await schedulerIds(queue)).toEqual(ALL);
    // Removed at once, well inside one check interval (the check may not run between them).
    await Promise.all(ALL.map((id) => queue.removeJobScheduler(id)));
    expect(await schedulerIds(queue)).toEqual([]);
    await eventually(async () => (await schedulerIds(queue)).length === ALL.length, 15_000, "the schedules made again");
    expect(await schedulerIds(queue)).toEqual(ALL);
  });

  it("after Redis restarts empty, the schedules are back without a worker restart and the expiry sweep emits CARD_EXPIRED", async () => {
    const redis = await PrivateRedis.start({ args: ["--save", "", "--appendonly", "no"] });
    cleanups.push(() => redis.destroy());
    // A check interval of an hour: only the reconnect can bring the schedules back here.
    const hub = await TestHub.start({ REDIS_URL: redis.url, EXPIRY_SWEEP_MS: "300", REDIS_CHECK_MS: "3600000" }, undefined, { worker: true });
    cleanups.push(async () => {
      if (!redis.running) await redis.start();
      await hub.close();
    });
    const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    probe.on("error", () => undefined);
    cleanups.push(async () => void probe.disconnect());
    expect(await schedulerIds(maintenanceQueue(redis.url, hub.config.queuePrefix))).toEqual(ALL);
    await probe.set("marker:before-the-crash", "1");

    await redis.stop("SIGKILL");
    await redis.start();
    // Nothing survived: the Redis is empty.
    expect(await probe.exists("marker:before-the-crash")).toBe(0);

    const queue = maintenanceQueue(redis.url, hub.config.queuePrefix);
    await eventually(async () => (await schedulerIds(queue)).length === ALL.length, 30_000, "the schedules back after the restart");
    expect(await schedulerIds(queue)).toEqual(ALL);

    const number = v2023(41);
    issueCard(hub.services.register, { number, validFrom: "2023-12-01", validUntil: "2024-12-31", englishName: "EXPIRY, AFTER RESTART" });
    const expiredEvents = () =>
      hub.services.db.$client.prepare("SELECT count(*) AS n FROM events WHERE type = 'CARD_EXPIRED' AND card_number = ?").get(number) as { n: number };
    await eventually(() => expiredEvents().n > 0, 30_000, "CARD_EXPIRED for the card past validUntil");
    expect(expiredEvents().n).toBe(1);
    expect(hub.services.lookup.checkCard(number, null, { canReadLineage: false }).result).toBe("EXPIRED");
  });
});
