/**
 * Test events and replays are spaced per subscription, and test events take the bulk lane (found by
 * an adversarial review: 100 requests of 20 aliased sendTestEvent queued 2,000 jobs on the urgent
 * lane every partner's revocations use; 5 replay requests queued 3,000 deliveries of 30 events).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

describe("partner-requested deliveries", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
  });
  afterAll(() => hub?.close());

  it("send one test event per subscription at a time, on the bulk lane", async () => {
    const { secret } = hub.partnerKey(["WEBHOOKS_MANAGE"]);
    const sub = await subscribe(hub, secret, "http://127.0.0.1:9/hook", ["CARD_ISSUED"]);
    const fields = Array.from({ length: 20 }, (_, i) => `t${i}: sendTestEvent(subscriptionId: "${sub.id}") { id }`).join(" ");
    const codes: string[] = [];
    for (let r = 0; r < 5; r += 1) {
      const answer = await hub.gql(secret, `mutation { ${fields} }`);
      codes.push(...(answer.errors ?? []).map((e) => e.extensions.code));
    }
    const rows = hub.services.db.$client.prepare("SELECT count(*) FROM webhook_deliveries WHERE subscription_id = ?").pluck().get(sub.id);
    expect(rows).toBe(1);
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(["RATE_LIMITED"]));
    const { urgent, bulk } = hub.runtime.queues.deliver;
    expect(await urgent.getJobCountByTypes("waiting", "delayed", "active")).toBe(0);
    expect(await bulk.getJobCountByTypes("waiting", "delayed", "active")).toBe(1);
    // Another subscription has its own slot.
    const other = await subscribe(hub, secret, "http://127.0.0.1:9/other", ["CARD_ISSUED"]);
    expect((await hub.gql(secret, `mutation { sendTestEvent(subscriptionId: "${other.id}") { id } }`)).errors).toBeUndefined();
  });

  it("replay once per subscription in a minute, however many aliases ask", async () => {
    const issuer = hub.key("ISSUER");
    for (let i = 0; i < 30; i += 1) await issue(hub, issuer, v2023(i, `1991-01-${String(i + 1).padStart(2, "0")}`));
    const { secret } = hub.partnerKey(["WEBHOOKS_MANAGE", "EVENTS_ALL"]);
    const sub = await subscribe(hub, secret, "http://127.0.0.1:9/hook", ["CARD_ISSUED"]);
    const { urgent, bulk } = hub.runtime.queues.deliver;
    const waiting = async () => (await urgent.getJobCountByTypes("waiting", "delayed", "active")) + (await bulk.getJobCountByTypes("waiting", "delayed", "active"));
    const before = await waiting();
    const fields = Array.from({ length: 20 }, (_, i) => `r${i}: replayEvents(subscriptionId: "${sub.id}", afterSequence: 0)`).join(" ");
    const answer = await hub.gql(secret, `mutation { ${fields} }`);
    const again = await hub.gql(secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: 0) }`);
    expect(again.errors?.[0].extensions.code).toBe("RATE_LIMITED");
    expect(again.errors?.[0].extensions.retryAfterMs).toBeGreaterThan(0);
    // replayEvents is non-null: the first refusal nulls the answer; the delivery jobs tell what ran.
    expect(answer.errors?.map((e) => e.extensions.code)).toContain("RATE_LIMITED");
    expect((await waiting()) - before).toBe(30);
  });

  it("count replays per partner too, so re-created subscriptions buy no more", async () => {
    const { secret } = hub.partnerKey(["WEBHOOKS_MANAGE", "EVENTS_ALL"]);
    const codes: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const sub = await subscribe(hub, secret, `http://127.0.0.1:9/hook${round}`, ["CARD_ISSUED"]);
      const answer = await hub.gql(secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: 0) }`);
      codes.push(answer.errors?.[0].extensions.code ?? "queued");
      expect((await hub.gql(secret, `mutation { deleteWebhookSubscription(id: "${sub.id}") }`)).errors).toBeUndefined();
    }
    expect(codes).toEqual(["queued", "queued", "queued", "RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("cost no slot when a replay finds nothing to send", async () => {
    const { secret } = hub.partnerKey(["WEBHOOKS_MANAGE", "EVENTS_ALL"]);
    const sub = await subscribe(hub, secret, "http://127.0.0.1:9/none", ["CARD_ISSUED"]);
    for (let round = 0; round < 3; round += 1) {
      expect((await hub.gql(secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: 999999) }`)).data.replayEvents).toBe(0);
    }
    expect((await hub.gql(secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: 0) }`)).data.replayEvents).toBeGreaterThan(0);
  });
});
