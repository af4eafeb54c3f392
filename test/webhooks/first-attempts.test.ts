/**
 * The fan-out's first attempts: one event to many subscriptions at once, attempt rows logged, and
 * safe to run again for the same event (a fan-out retried after a crash): what succeeded is not
 * sent again, a failure answers "retry" (its job is queued again, by id), an open attempt is resent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryAttempts } from "../../src/webhooks/delivery-attempt.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("DeliveryAttempts.firstAttempts", () => {
  let hub: TestHub;
  let good: TestReceiver;
  let failing: TestReceiver;
  let attempts: DeliveryAttempts;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: false });
    [good, failing] = await Promise.all([TestReceiver.start(), TestReceiver.start()]);
    failing.respond = () => ({ status: 503 });
    const settings = { sourceUri: hub.config.sourceUri, ...hub.config.webhooks };
    attempts = new DeliveryAttempts(hub.services.db, hub.services.subscriptions, { requireHttps: false, allowCidrs: ["127.0.0.0/8"] }, settings);
  });
  afterAll(async () => {
    await hub?.close();
    await Promise.all([good?.close(), failing?.close()]);
  });

  const rows = (sequence: number) =>
    hub.services.db.$client
      .prepare("SELECT subscription_id AS s, attempt, status, response_status AS code FROM webhook_deliveries WHERE sequence = ? ORDER BY subscription_id, attempt")
      .all(sequence) as { s: string; attempt: number; status: string; code: number | null }[];

  it("sends to every subscription concurrently, logs each attempt, and is safe to run again", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    const subs: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const sub = await subscribe(hub, partner, i < 5 ? good.url : failing.url, ["CARD_ISSUED"]);
      (i < 5 ? good : failing).secrets.push(sub.secret);
      subs.push(sub.id);
    }
    await issue(hub, hub.key("ISSUER"), v2023(701));
    const sequence = (hub.services.db.$client.prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;

    const first = await attempts.firstAttempts(sequence, subs, false, 3);
    expect([...first.values()].filter((o) => o.kind === "succeeded")).toHaveLength(5);
    expect(first.get(subs[5])).toMatchObject({ kind: "retry", error: "HTTP 503" });
    expect(good.received.filter((r) => r.verified)).toHaveLength(5);
    expect(failing.received).toHaveLength(0); // a 503 is not accepted
    const logged = rows(sequence);
    expect(logged).toHaveLength(6);
    expect(logged.filter((r) => r.s !== subs[5]).map((r) => [r.attempt, r.status, r.code])).toEqual(Array.from({ length: 5 }, () => [1, "SUCCEEDED", 204]));
    expect(logged.find((r) => r.s === subs[5])).toMatchObject({ attempt: 1, status: "FAILED", code: 503 });

    // An attempt left open (a worker that died while sending) is resent on the rerun.
    hub.services.db.$client.prepare("UPDATE webhook_deliveries SET status = 'PENDING' WHERE subscription_id = ? AND sequence = ?").run(subs[0], sequence);
    const again = await attempts.firstAttempts(sequence, subs, false, 3);
    expect(again.get(subs[0])).toEqual({ kind: "succeeded" });
    for (const id of subs.slice(1, 5)) expect(again.get(id)).toMatchObject({ kind: "skipped", reason: "already succeeded" });
    expect(again.get(subs[5])).toMatchObject({ kind: "retry" });
    expect(good.received).toHaveLength(6);
    expect(rows(sequence)).toHaveLength(6); // the open row was reused, nothing else added
  });

  it("skips paused subscriptions and unknown events, and treats the last attempt as final when there are no retries", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    const live = await subscribe(hub, partner, failing.url, ["CARD_ISSUED"]);
    const paused = await subscribe(hub, partner, good.url, ["CARD_ISSUED"]);
    hub.services.db.$client.prepare("UPDATE webhook_subscriptions SET status = 'PAUSED' WHERE id = ?").run(paused.id);
    await issue(hub, hub.key("ISSUER"), v2023(702));
    const sequence = (hub.services.db.$client.prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;
    const outcomes = await attempts.firstAttempts(sequence, [live.id, paused.id], true, 2);
    expect(outcomes.get(paused.id)).toEqual({ kind: "skipped", reason: "subscription paused" });
    expect(outcomes.get(live.id)).toMatchObject({ kind: "give-up", error: "HTTP 503" });
    expect(rows(sequence).map((r) => r.status)).toEqual(["DEAD"]);
    expect((await attempts.firstAttempts(999_999, [live.id], false, 2)).get(live.id)).toEqual({ kind: "skipped", reason: "event not found" });
  });
});
