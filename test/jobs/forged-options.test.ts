/**
 * Jobs written straight into the real queues with options the hub never sets (found by an
 * adversarial review): attempts and a backoff of their own made one job POST to a failing receiver
 * hundreds of times in seconds; a repeatable job re-sent a delivered event every 100 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("forged job options", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  let sub: { id: string; secret: string };
  let sequence: number;
  beforeAll(async () => {
    hub = await TestHub.start({ WEBHOOK_RETRY_SCHEDULE: "20ms,40ms,60ms" }, undefined, { worker: true });
    receiver = await TestReceiver.start();
    const all = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    sub = await subscribe(hub, all.secret, receiver.url, ["CARD_ISSUED"]);
    receiver.secrets = [sub.secret];
    await issue(hub, hub.key("ISSUER"), v2023(7));
    await receiver.waitFor(() => receiver.received.length === 1);
    sequence = receiver.received[0].event.data.sequence;
  });
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  async function failedReason(queue: typeof hub.runtime.queues.deliver.urgent, jobId: string): Promise<string> {
    let reason = "";
    await eventually(async () => {
      const job = await queue.getJob(jobId);
      reason = job?.failedReason ?? "";
      return reason !== "";
    }, 10_000, `job ${jobId} failed`);
    return reason;
  }

  it("refuses a delivery job with its own attempts or backoff: no flood of a failing receiver", async () => {
    receiver.respond = () => ({ status: 503 });
    try {
      const eventId = receiver.received[0].id;
      const before = receiver.attempts.get(eventId) ?? 0;
      const queue = hub.runtime.queues.deliver.urgent;
      await queue.add("deliver", { subscriptionId: sub.id, sequence }, { jobId: "forged-attempts", attempts: 100_000, backoff: { type: "fixed", delay: 1 } });
      await queue.add("deliver", { subscriptionId: sub.id, sequence }, { jobId: "forged-backoff", attempts: 2, backoff: { type: "fixed", delay: 1 } });
      expect(await failedReason(queue, "forged-attempts")).toBe("invalid deliver job: more attempts than the schedule allows");
      expect(await failedReason(queue, "forged-backoff")).toBe("invalid deliver job: a backoff of its own");
      await pause(300);
      expect((receiver.attempts.get(eventId) ?? 0) - before).toBe(0);
    } finally {
      receiver.respond = () => ({ status: 204 });
    }
  });

  it("refuses repeatable delivery and fan-out jobs", async () => {
    const before = receiver.received.length;
    const { deliver, fanout } = hub.runtime.queues;
    await deliver.urgent.add("deliver", { subscriptionId: sub.id, sequence }, { repeat: { every: 100 } });
    await fanout.urgent.add("fanout", { sequence }, { repeat: { every: 100 } });
    await pause(1500);
    for (const queue of [deliver.urgent, fanout.urgent]) {
      for (const scheduler of await queue.getJobSchedulers()) await queue.removeJobScheduler(scheduler.key);
      const failed = (await queue.getFailed()).filter((job) => !job.id?.startsWith("forged-"));
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.map((job) => job.failedReason)).toEqual(failed.map(() => expect.stringMatching(/^invalid (deliver|fanout) job: a repeatable job$/)));
    }
    expect(receiver.received.length - before).toBe(0);
  });
});
