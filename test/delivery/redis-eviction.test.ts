import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../../jobs/queues.ts";
import { startWorker } from "../../jobs/worker.ts";
import { committedEvents, deliveryProblems, hasAll, issueCards, missing, owedCount } from "../helpers/delivery-audit.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";

/**
 * Issue 11, "Redis with an eviction policy": a Redis with a small maxmemory and `allkeys-lru`
 * is filled with other keys while a failing receiver's retries wait in it as delayed jobs; LRU
 * eviction takes the idlest keys, which are those jobs. The hub must notice what was lost and
 * send it anyway: once the receiver is healthy, every committed event reaches it.
 *
 * (Whether the hub refuses such a Redis at start, /readyz, is another test's concern; this one
 * only checks delivery.) Scaled down from the issue's 299 evicted retries to about 60 events.
 */

const EVENTS = 60;
const SETTINGS = { WEBHOOK_RETRY_SCHEDULE: "4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s,4s", WEBHOOK_TIMEOUT_MS: "2000" };

describe("delivery on a Redis that evicts keys", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  let receiver: TestReceiver | undefined;
  let filler: Redis | undefined;

  const reset = async (): Promise<void> => {
    filler?.disconnect();
    await receiver?.close();
    await hub?.close();
    await redis?.destroy();
    filler = receiver = hub = redis = undefined;
  };
  afterAll(reset);

  it("delivers every committed event once the receiver is healthy, though its retry jobs were evicted", async () => {
    redis = await PrivateRedis.start({ args: ["--appendonly", "no", "--maxmemory", "16mb", "--maxmemory-policy", "allkeys-lru"] });
    hub = await TestHub.start({ REDIS_URL: redis.url, ...SETTINGS }, undefined, { worker: true });
    const db = hub.services.db.$client;
    const queues = hub.runtime.queues;
    const prefix = hub.config.queuePrefix;

    receiver = await TestReceiver.start();
    const r = receiver;
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    r.secrets = [(await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"])).secret];
    let healthy = false;
    r.respond = () => (healthy ? { status: 204 } : { status: 503 });

    await issueCards(hub, hub.key("ISSUER"), 0, EVENTS);
    const committed = committedEvents(db);
    // The receiver's retries wait in Redis as delayed jobs.
    let delayedIds: string[] = [];
    await eventually(
      async () => {
        delayedIds = (await queues.deliver.bulk.getDelayed()).map((job) => job.id!);
        return delayedIds.length >= 5;
      },
      20_000,
      "retries delayed in Redis",
    );

    // Memory pressure: other keys fill Redis, LRU eviction takes the idlest.
    filler = new Redis(redis.url);
    const value = "x".repeat(1024);
    for (let batch = 0; batch < 40; batch++) {
      const pipeline = filler.pipeline();
      for (let i = 0; i < 1000; i++) pipeline.set(`filler:${batch}:${i}`, value);
      await pipeline.exec();
    }
    const stats = await filler.info("stats");
    const evicted = Number(/evicted_keys:(\d+)/.exec(stats)?.[1] ?? 0);
    const jobKey = (id: string) => `${prefix}:${QUEUE_NAMES.deliver.bulk}:${id}`;
    const gone = (await Promise.all(delayedIds.map((id) => filler!.exists(jobKey(id))))).filter((n) => n === 0).length;
    // Eviction hit the hub's retry jobs (in practice all or nearly all of them, and the delayed set).
    expect(evicted).toBeGreaterThan(0);
    expect(gone).toBeGreaterThan(0);

    healthy = true;
    await eventually(() => hasAll(r, committed.keys()) && owedCount(db) === 0, 30_000, "every event at the receiver").catch((error: Error) => {
      throw new Error(`${error.message}: ${missing(r, committed.keys())} of ${EVENTS} missing, ${owedCount(db)} owed`);
    });
    expect(deliveryProblems(r, committed)).toEqual([]);
  }, 120_000);

  it("re-hands a delivery whose job is still listed as active after its data was evicted", async () => {
    // Eviction can take a job's hash while the job is active: BullMQ then keeps naming it
    // "active" until two of its stall checks have passed (2 × JOB_LOCK_MS, a minute by default),
    // which the reconciler must not take for a live job. Simulated with DEL (what eviction does)
    // on a job a worker took and dropped, so the test does not depend on what LRU picks.
    await reset();
    hub = await TestHub.start({}, undefined, { worker: false });
    const db = hub.services.db.$client;
    const queues = hub.runtime.queues;
    receiver = await TestReceiver.start();
    const r = receiver;
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    r.secrets = [(await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"])).secret];
    await issueCards(hub, hub.key("ISSUER"), 0, 1);
    const committed = committedEvents(db);
    const queue = queues.fanout.bulk;
    await eventually(async () => (await queue.getWaitingCount()) === 1, 10_000, "the fan-out job waiting");

    // A worker takes the job and dies holding it; the job's hash is evicted.
    filler = new Redis(hub.runtime.redis.url, { maxRetriesPerRequest: null });
    const taker = new Worker(queue.name, undefined, { connection: filler, prefix: hub.config.queuePrefix, autorun: false, lockDuration: 1000 });
    const job = (await taker.getNextJob("dead-worker"))!;
    expect(job.id).toMatch(/\.fan\./);
    await taker.close(true);
    await filler.del(queue.toKey(job.id!));
    expect(await queue.getJobState(job.id!)).toBe("active");

    const worker = await startWorker(hub.runtime);
    try {
      await eventually(() => hasAll(r, committed.keys()) && owedCount(db) === 0, 15_000, "the event at the receiver");
      // Delivered by a new hand-off, while BullMQ still lists the evicted job as active.
      expect(await queue.getJobState(job.id!)).toBe("active");
      expect(deliveryProblems(r, committed)).toEqual([]);
    } finally {
      await worker.close();
    }
  }, 60_000);
});
