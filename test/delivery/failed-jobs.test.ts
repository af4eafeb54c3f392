import { UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "../../jobs/worker.ts";
import { committedEvents, deliveryProblems, hasAll, issueCards, owedCount } from "../helpers/delivery-audit.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";

/**
 * Issue 11: "a reconciler re-queues whatever is owed but has no live job (... failed jobs ...)
 * within a bounded time". A job BullMQ has failed, for whatever reason (here a worker takes it
 * and fails it for good, as a processor throwing an unrecoverable error does), carries its rows
 * no more: the reconciler (DELIVERY_RECONCILE_MS 200, DELIVERY_GRACE_MS 1 s in tests) hands them
 * over again, and the event arrives. Both kinds of job: an event's fan-out (its first attempts)
 * and a delivery job carrying a retry.
 */

describe("delivery after BullMQ fails a job", () => {
  let hub: TestHub | undefined;
  let worker: WorkerHandle | undefined;
  let receiver: TestReceiver | undefined;
  let connection: Redis | undefined;

  afterEach(async () => {
    await worker?.close();
    connection?.disconnect();
    await receiver?.close();
    await hub?.close();
    worker = connection = receiver = hub = undefined;
  });

  /** A hub without a worker, one receiver subscribed to every card.issued event. */
  async function setUp(settings: Record<string, string> = {}): Promise<{ hub: TestHub; receiver: TestReceiver }> {
    hub = await TestHub.start(settings, undefined, { worker: false });
    receiver = await TestReceiver.start();
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    receiver.secrets = [(await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"])).secret];
    connection = new Redis(hub.runtime.redis.url, { maxRetriesPerRequest: null });
    return { hub, receiver };
  }

  /** Takes the next job of `queueName` as a worker would, and fails it for good. */
  async function takeAndFail(queueName: string): Promise<Job> {
    const taker = new Worker(queueName, undefined, { connection: connection!, prefix: hub!.config.queuePrefix, autorun: false });
    try {
      let job: Job | undefined;
      await eventually(async () => (job = await taker.getNextJob("test-token")) !== undefined, 15_000, `a job of ${queueName} to take`);
      await job!.moveToFailed(new UnrecoverableError("failed by the test"), "test-token", false);
      return job!;
    } finally {
      await taker.close(true);
    }
  }

  it("re-hands an event whose fan-out job failed", async () => {
    const { hub, receiver } = await setUp();
    await issueCards(hub, hub.key("ISSUER"), 0, 1);
    const committed = committedEvents(hub.services.db.$client);
    const queue = hub.runtime.queues.fanout.bulk;
    const job = await takeAndFail(queue.name);
    expect(job.id).toMatch(/\.fan\./);
    expect(await queue.getJobState(job.id!)).toBe("failed");

    worker = await startWorker(hub.runtime);
    await eventually(() => hasAll(receiver, committed.keys()) && owedCount(hub.services.db.$client) === 0, 15_000, "the event at the receiver");
    expect(deliveryProblems(receiver, committed)).toEqual([]);
    expect(await queue.getJobState(job.id!)).toBe("failed"); // not retried by BullMQ: re-handed by the hub
  });

  it("re-hands a retry whose delivery job failed", async () => {
    const { hub, receiver } = await setUp({ WEBHOOK_RETRY_SCHEDULE: "1s,1s,1s" });
    const db = hub.services.db.$client;
    receiver.respond = ({ attempt }) => (attempt === 1 ? { status: 503 } : { status: 204 });
    worker = await startWorker(hub.runtime);
    await issueCards(hub, hub.key("ISSUER"), 0, 1);
    const committed = committedEvents(db);
    // The first attempt failed; the retry waits in Redis as a delivery job. The worker stops.
    const queue = hub.runtime.queues.deliver.bulk;
    await eventually(async () => (await queue.getDelayedCount()) === 1, 15_000, "the retry delayed in Redis");
    await worker.close();
    worker = undefined;
    const job = await takeAndFail(queue.name);
    expect(job.id).toMatch(/\.dlv\./);
    expect(await queue.getJobState(job.id!)).toBe("failed");
    expect(receiver.ids().size).toBe(0);

    worker = await startWorker(hub.runtime);
    await eventually(() => hasAll(receiver, committed.keys()) && owedCount(db) === 0, 15_000, "the event at the receiver");
    expect(deliveryProblems(receiver, committed)).toEqual([]);
    expect(await queue.getJobState(job.id!)).toBe("failed");
  });
});
