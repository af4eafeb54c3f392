/**
 * The delivery ledger as the worker's processors use it, job by job (jobs handed to the real
 * processors as a worker would, over real SQLite and Redis, to real receivers): what an event
 * owes is written by its fan-out without Redis; a job only carries rows; a row settles when it
 * succeeded, died or is not owed; a run again, a stale job, or a second job for a row leased to
 * another sends nothing twice; a replay owes again; a deleted subscription is owed nothing.
 */
import { Job, type Processor } from "bullmq";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProcessors } from "../../jobs/processors.ts";
import { ledgerJobId, QUEUE_NAMES } from "../../jobs/queues.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

interface Owed {
  subscription_id: string;
  sequence: number;
  tries: number;
  handoff: number;
  queued: number;
  lease_until: number | null;
}

describe("the delivery ledger", () => {
  let hub: TestHub;
  let good: TestReceiver;
  let failing: TestReceiver;
  let processors: Record<string, Processor>;
  let partner: string;

  beforeAll(async () => {
    // No worker: the test hands each job to the processors itself.
    hub = await TestHub.start({ WEBHOOK_RETRY_SCHEDULE: "1h,1h" }, undefined, { worker: false });
    [good, failing] = await Promise.all([TestReceiver.start(), TestReceiver.start()]);
    failing.respond = () => ({ status: 503 });
    processors = createProcessors(hub.runtime).processors;
    partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
  });
  beforeEach(async () => {
    // Each test starts with subscriptions of its own only.
    const listed = await hub.gql(partner, "{ webhookSubscriptions { id } }");
    for (const { id } of listed.data.webhookSubscriptions) await hub.gql(partner, `mutation { deleteWebhookSubscription(id: "${id}") }`);
  });
  afterAll(async () => {
    await hub?.close();
    await Promise.all([good?.close(), failing?.close()]);
  });

  const sql = () => hub.services.db.$client;
  const owed = (sequence: number) => sql().prepare("SELECT * FROM owed_deliveries WHERE sequence = ? ORDER BY subscription_id").all(sequence) as Owed[];
  const attempts = (sequence: number) =>
    sql().prepare("SELECT subscription_id AS s, attempt, status FROM webhook_deliveries WHERE sequence = ? ORDER BY subscription_id, attempt").all(sequence) as {
      s: string;
      attempt: number;
      status: string;
    }[];
  const lastSequence = () => (sql().prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;
  const fanoutJob = (sequence: number, id = ledgerJobId(hub.services.identity.id, { subscriptionId: "", sequence, handoff: 0 })) =>
    new Job(hub.runtime.queues.fanout.bulk, "fanout", { sequence }, { attempts: 8, backoff: { type: "exponential", delay: 1000 } }, id);
  const deliverJob = (row: { subscriptionId: string; sequence: number; handoff: number }) =>
    new Job(hub.runtime.queues.deliver.bulk, "deliver", row, { attempts: 1 }, ledgerJobId(hub.services.identity.id, row));

  async function subscriptions(goodCount: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i <= goodCount; i += 1) {
      const receiver = i < goodCount ? good : failing;
      const sub = await subscribe(hub, partner, receiver.url, ["CARD_ISSUED"]);
      receiver.secrets.push(sub.secret);
      ids.push(sub.id);
    }
    return ids;
  }

  it("owes one row per receiving subscription at fan-out (no Redis needed), settles what succeeded and reschedules what failed", async () => {
    const subs = await subscriptions(4);
    await issue(hub, hub.key("ISSUER"), v2023(801));
    const sequence = lastSequence();
    // The fan-out is a database step: the event is dispatched and its deliveries owed.
    hub.runtime.relay.fanOut();
    expect(sql().prepare("SELECT dispatched_at IS NOT NULL AS d FROM events WHERE sequence = ?").get(sequence)).toEqual({ d: 1 });
    expect(owed(sequence).map((row) => row.subscription_id).sort()).toEqual([...subs].sort());
    expect(owed(sequence).every((row) => row.tries === 0 && row.handoff === 0)).toBe(true);

    const result = await processors[QUEUE_NAMES.fanout.bulk](fanoutJob(sequence));
    expect(result).toBe("5 owed: 5 sent, 0 waiting, 0 not owed");
    expect(good.received.filter((r) => r.verified && r.id === `evt_${sequence}`)).toHaveLength(4);
    // Only the failing one is still owed: one attempt made, a new hand-off, no lease.
    expect(owed(sequence)).toEqual([expect.objectContaining({ subscription_id: subs[4], tries: 1, handoff: 1, lease_until: null })]);
    expect(attempts(sequence).filter((a) => a.s === subs[4])).toEqual([{ s: subs[4], attempt: 1, status: "FAILED" }]);

    // The same fan-out job again (a retry, a stalled job run twice) claims nothing: nothing is resent.
    expect(await processors[QUEUE_NAMES.fanout.bulk](fanoutJob(sequence))).toBe("0 owed: 0 sent, 0 waiting, 0 not owed");
    expect(good.received.filter((r) => r.id === `evt_${sequence}`)).toHaveLength(4);
    // A delivery job of an earlier hand-off is stale and sends nothing.
    expect(await processors[QUEUE_NAMES.deliver.bulk](deliverJob({ subscriptionId: subs[4], sequence, handoff: 7 }))).toBe("stale: the ledger has moved on");

    // The retry, carried by hand-off 1: the last attempt of a two-step round... fails again, and is rescheduled.
    expect(await processors[QUEUE_NAMES.deliver.bulk](deliverJob({ subscriptionId: subs[4], sequence, handoff: 1 }))).toBe("1 owed: 1 sent, 0 waiting, 0 not owed");
    expect(owed(sequence)).toEqual([expect.objectContaining({ tries: 2, handoff: 2 })]);
    failing.respond = () => ({ status: 204 });
    try {
      expect(await processors[QUEUE_NAMES.deliver.bulk](deliverJob({ subscriptionId: subs[4], sequence, handoff: 2 }))).toBe("1 owed: 1 sent, 0 waiting, 0 not owed");
    } finally {
      failing.respond = () => ({ status: 503 });
    }
    expect(owed(sequence)).toEqual([]);
    expect(attempts(sequence).filter((a) => a.s === subs[4]).map((a) => a.status)).toEqual(["FAILED", "FAILED", "SUCCEEDED"]);
  });

  it("never lets two jobs attempt one row: a row leased to another job is not claimed until the lease lapses", async () => {
    const [sub] = await subscriptions(1);
    await issue(hub, hub.key("ISSUER"), v2023(802));
    const sequence = lastSequence();
    hub.runtime.relay.fanOut();
    // Another worker holds the good subscription's row right now.
    sql().prepare("UPDATE owed_deliveries SET lease_until = ?, lease_job = 'elsewhere' WHERE subscription_id = ? AND sequence = ?").run(Date.now() + 60_000, sub, sequence);
    const before = good.received.length;
    expect(await processors[QUEUE_NAMES.fanout.bulk](fanoutJob(sequence))).toBe("1 owed: 1 sent, 0 waiting, 0 not owed"); // the failing one only
    expect(good.received.length).toBe(before);
    // Its lease lapses (that worker died): the next job for it takes the row.
    sql().prepare("UPDATE owed_deliveries SET lease_until = ? WHERE subscription_id = ? AND sequence = ?").run(Date.now() - 1, sub, sequence);
    expect(await processors[QUEUE_NAMES.fanout.bulk](fanoutJob(sequence))).toBe("1 owed: 1 sent, 0 waiting, 0 not owed");
    expect(good.received.filter((r) => r.id === `evt_${sequence}`)).toHaveLength(1);
  });

  it("settles a row that is not owed after all (paused subscription), with its reason", async () => {
    const [sub] = await subscriptions(1);
    await issue(hub, hub.key("ISSUER"), v2023(803));
    const sequence = lastSequence();
    hub.runtime.relay.fanOut();
    const row = owed(sequence).find((r) => r.subscription_id === sub)!;
    sql().prepare("UPDATE owed_deliveries SET handoff = 1 WHERE subscription_id = ? AND sequence = ?").run(sub, sequence);
    sql().prepare("UPDATE webhook_subscriptions SET status = 'PAUSED' WHERE id = ?").run(sub);
    expect(row).toBeDefined();
    expect(await processors[QUEUE_NAMES.deliver.bulk](deliverJob({ subscriptionId: sub, sequence, handoff: 1 }))).toBe("skipped: subscription paused");
    expect(owed(sequence).some((r) => r.subscription_id === sub)).toBe(false);
  });

  it("a replay owes the events again from the first step; deleting a subscription forgets what it was owed", async () => {
    const [sub] = await subscriptions(1);
    const issuer = hub.key("ISSUER");
    await issue(hub, issuer, v2023(804));
    const first = lastSequence();
    await issue(hub, issuer, v2023(805));
    hub.runtime.relay.fanOut();
    sql().prepare("DELETE FROM owed_deliveries WHERE subscription_id = ?").run(sub); // as if delivered
    const replayed = await hub.gql(partner, `mutation { replayEvents(subscriptionId: "${sub}", afterSequence: ${first - 1}) }`);
    expect(replayed.data.replayEvents).toBe(2);
    const rows = sql().prepare("SELECT sequence, tries, handoff FROM owed_deliveries WHERE subscription_id = ? ORDER BY sequence").all(sub);
    expect(rows).toEqual([
      { sequence: first, tries: 0, handoff: 1 },
      { sequence: first + 1, tries: 0, handoff: 1 },
    ]);
    const deleted = await hub.gql(partner, `mutation { deleteWebhookSubscription(id: "${sub}") }`);
    expect(deleted.data.deleteWebhookSubscription).toBe(true);
    expect(sql().prepare("SELECT count(*) AS n FROM owed_deliveries WHERE subscription_id = ?").get(sub)).toEqual({ n: 0 });
  });
});
