/**
 * Retries queued under a longer retry schedule (before the operator shortened it, or by an api
 * process of the previous release during a rolling deploy) still run. Found by an adversarial
 * review: the forged-options check refused them, and the partner never received the event.
 */
import { afterAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("a shorter retry schedule refuses retries already queued", () => {
  const receiver = TestReceiver.start();
  afterAll(async () => (await receiver).close());

  it("still delivers a retry queued under the previous schedule", async () => {
    const rx = await receiver;
    const first = await TestHub.start({ WEBHOOK_RETRY_SCHEDULE: "3s,3s,3s" }, undefined, { worker: true });
    const sub = await subscribe(first, first.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, rx.url, ["CARD_ISSUED"]);
    rx.secrets = [sub.secret];
    rx.respond = ({ attempt }) => ({ status: attempt === 1 ? 503 : 204 });
    await issue(first, first.key("ISSUER"), v2023(7));
    const { deliver } = first.runtime.queues;
    let jobId = "";
    await eventually(async () => {
      const jobs = [...(await deliver.urgent.getDelayed()), ...(await deliver.bulk.getDelayed())];
      jobId = jobs[0]?.id ?? "";
      return jobId !== "";
    }, 10_000, "a retry job queued");
    const config = first.runtime.config;
    await first.close(); // the operator restarts the hub with a shorter schedule
    const second = await TestHub.start(
      { WEBHOOK_RETRY_SCHEDULE: "200ms", DATA_DIR: config.dataDir, QUEUE_PREFIX: config.queuePrefix },
      undefined,
      { worker: true },
    );
    try {
      const queues = second.runtime.queues.deliver;
      for (const q of [queues.urgent, queues.bulk]) await (await q.getJob(jobId))?.promote().catch(() => undefined);
      let reason = "";
      await eventually(async () => {
        const job = (await queues.urgent.getJob(jobId)) ?? (await queues.bulk.getJob(jobId));
        reason = job?.failedReason ?? "";
        return reason !== "" || rx.received.length > 0;
      }, 10_000, "retry settled");
      expect(reason).toBe("");
      expect(rx.received.length).toBe(1);
    } finally {
      await second.close();
    }
  }, 30_000);
});
