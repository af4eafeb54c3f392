import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { WorkerChild } from "../helpers/worker-child.ts";

/**
 * At-least-once delivery survives a worker that dies mid-fan-out: the api runs in this process,
 * the worker role (`fpr-hub worker`) in a child that is SIGKILLed while deliveries are in flight.
 * A fresh worker picks up the stalled jobs once their locks lapse, and every subscriber ends up
 * with every committed event (duplicates allowed, nothing unknown), each verified.
 */

const CARDS = 60;
const RECEIVERS = 3;
const LOCK_MS = "1000";

const ISSUE = `mutation ($input: IssueCardInput!) { issueCard(input: $input) { number state } }`;
const SUBSCRIBE = `mutation ($url: String!, $types: [EventType!]!) { createWebhookSubscription(url: $url, eventTypes: $types) { subscription { id } secret } }`;
const ALL_TYPES = ["CARD_ISSUED", "CARD_SUPERSEDED", "CARD_REPORTED_LOST", "CARD_REVOKED", "CARD_EXPIRED", "HOLDER_STATUS_CHANGED"];

describe("webhook delivery across a worker crash", () => {
  let hub: TestHub | undefined;
  const workers: WorkerChild[] = [];
  const receivers: TestReceiver[] = [];
  const killAll = (): void => {
    for (const w of workers) if (!w.exited) w.child.kill("SIGKILL");
  };
  process.on("exit", killAll);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    process.off("exit", killAll);
    await Promise.all(receivers.map((r) => r.close()));
    if (hub) {
      await hub.close();
      fs.rmSync(hub.config.dataDir, { recursive: true, force: true });
    }
  });

  it("delivers every committed event to every subscriber after the worker is killed mid-fan-out", async () => {
    hub = await TestHub.start({ JOB_LOCK_MS: LOCK_MS, WEBHOOK_RETRY_SCHEDULE: "50ms,100ms,200ms" }, undefined, { worker: false });
    const db = hub.services.db.$client;

    const partner = hub.partnerKey(["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"]);
    const subscriptionIds: string[] = [];
    for (let i = 0; i < RECEIVERS; i++) {
      const receiver = await TestReceiver.start();
      receivers.push(receiver);
      receiver.respond = () => ({ status: 204, delayMs: 100 + Math.floor(Math.random() * 100) });
      const created = await hub.gql(partner.secret, SUBSCRIBE, { url: receiver.url, types: ALL_TYPES });
      expect(created.errors).toBeUndefined();
      receiver.secrets = [created.data.createWebhookSubscription.secret];
      subscriptionIds.push(created.data.createWebhookSubscription.subscription.id);
    }

    // The events commit (and the api's relay hands them to BullMQ) before any worker runs.
    const issuer = hub.key("ISSUER");
    for (let i = 0; i < CARDS; i++) {
      const number = makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: i });
      const answer = await hub.gql(issuer, ISSUE, { input: { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "CRASH, TEST" } });
      expect(answer.errors, `issueCard ${number}`).toBeUndefined();
    }
    const committed = new Set((db.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((row) => `evt_${row.sequence}`));
    expect(committed.size).toBe(CARDS);
    const total = CARDS * RECEIVERS;
    const distinctDelivered = (): number => receivers.reduce((sum, r) => sum + r.ids().size, 0);

    // First worker: killed without warning once some, but not all, deliveries have arrived.
    const first = await WorkerChild.start(hub, { JOB_LOCK_MS: LOCK_MS });
    workers.push(first);
    await eventually(() => distinctDelivered() >= 30 || first.exited, 30_000, "the first deliveries");
    expect(first.exited, first.log).toBe(false);
    await first.stop("SIGKILL");
    // Let requests the dead worker had already written reach the receivers before taking stock.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const atKill = distinctDelivered();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);
    const requestsAtKill = receivers.map((r) => new Map(r.attempts));
    // Attempts the dead worker had started but not finished: their jobs must be run again.
    const openAtKill = db.prepare("SELECT subscription_id AS subscriptionId, event_id AS eventId FROM webhook_deliveries WHERE status = 'PENDING'").all() as {
      subscriptionId: string;
      eventId: string;
    }[];
    expect(openAtKill.length).toBeGreaterThan(0);

    // A fresh worker delivers the rest and, once the dead worker's locks lapse, its stalled jobs.
    const second = await WorkerChild.start(hub, { JOB_LOCK_MS: LOCK_MS });
    workers.push(second);
    const pending = (): number => (db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'PENDING'").get() as { n: number }).n;
    await eventually(
      () => pending() === 0 && receivers.every((r) => [...committed].every((id) => r.ids().has(id))),
      40_000,
      "every receiver having every event and no attempt left open",
    ).catch((error: Error) => {
      const state = `delivered ${atKill}/${total} at the kill, ${distinctDelivered()}/${total} now, ${pending()} attempts open`;
      throw new Error(`${error.message} (${state}); worker log:\n${second.log.slice(-1500)}`);
    });

    for (const receiver of receivers) {
      expect(receiver.ids()).toEqual(committed); // duplicates allowed (deduped on webhook-id), nothing unknown
      expect(receiver.received.filter((r) => !r.verified).map((r) => r.id)).toEqual([]);
      for (const r of receiver.received) expect(r.event.id).toBe(r.id);
    }
    // Every attempt left open by the dead worker was made again after the crash.
    const notRetried = openAtKill.filter(({ subscriptionId, eventId }) => {
      const i = subscriptionIds.indexOf(subscriptionId);
      return (receivers[i]!.attempts.get(eventId) ?? 0) <= (requestsAtKill[i]!.get(eventId) ?? 0);
    });
    expect(notRetried).toEqual([]);

    // The delivery log agrees: a succeeded attempt for every subscription and event.
    for (const subscriptionId of subscriptionIds) {
      const succeeded = db
        .prepare("SELECT DISTINCT event_id AS id FROM webhook_deliveries WHERE subscription_id = ? AND status = 'SUCCEEDED'")
        .all(subscriptionId) as { id: string }[];
      expect(new Set(succeeded.map((row) => row.id))).toEqual(committed);
    }
    expect((db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n).toBe(CARDS);

    await second.stop("SIGTERM");
    expect(second.child.exitCode, second.log).toBe(0);
  }, 90_000);
});
