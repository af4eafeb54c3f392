import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, ALL_SCOPES, issue, subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

describe("webhook delivery", () => {
  let hub: TestHub;
  let issuer: string;
  const receivers: TestReceiver[] = [];

  async function receiver(): Promise<TestReceiver> {
    const r = await TestReceiver.start();
    receivers.push(r);
    return r;
  }

  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    issuer = hub.key("ISSUER");
  });
  afterAll(async () => {
    await hub.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("delivers a revocation to every matching subscriber, verified with standardwebhooks, and to no one else", async () => {
    const watched = v2023(1);
    const other = v2023(2);
    await issue(hub, issuer, watched);
    await issue(hub, issuer, other);

    const everything = hub.partnerKey(ALL_SCOPES);
    const watcher = hub.partnerKey(WATCHER);
    const unrelated = hub.partnerKey(WATCHER);
    const wrongType = hub.partnerKey(ALL_SCOPES);
    const [rAll, rWatch, rUnrelated, rType] = await Promise.all([receiver(), receiver(), receiver(), receiver()]);
    rAll.secrets = [(await subscribe(hub, everything.secret, rAll.url, ["CARD_REVOKED"])).secret];
    rWatch.secrets = [(await subscribe(hub, watcher.secret, rWatch.url, ["CARD_REVOKED", "CARD_REPORTED_LOST"])).secret];
    rUnrelated.secrets = [(await subscribe(hub, unrelated.secret, rUnrelated.url, ["CARD_REVOKED"])).secret];
    rType.secrets = [(await subscribe(hub, wrongType.secret, rType.url, ["CARD_ISSUED"])).secret];
    expect((await hub.gql(watcher.secret, `mutation { watchCards(numbers: ["${watched}"]) }`)).data.watchCards).toBe(1);
    expect((await hub.gql(unrelated.secret, `mutation { watchCards(numbers: ["${other}"]) }`)).data.watchCards).toBe(1);

    await hub.gql(issuer, `mutation { revokeCard(number: "${watched}", reason: "test") { state } }`);
    await rAll.waitFor(() => rAll.received.length === 1);
    await rWatch.waitFor(() => rWatch.received.length === 1);

    for (const got of [rAll.received[0], rWatch.received[0]]) {
      expect(got.verified).toBe(true);
      expect(got.headers["content-type"]).toBe("application/cloudevents+json");
      expect(got.event).toMatchObject({ specversion: "1.0", id: got.id, type: "card.revoked", subject: watched, source: hub.config.sourceUri });
      expect(got.event.data).toMatchObject({ cardNumber: watched, issueCount: 0, version: "V2023", state: "REVOKED", previousState: "VALID", holderStatus: "ACTIVE" });
      expect(got.id).toBe(`evt_${got.event.data.sequence}`);
    }
    expect(rAll.received[0].event.data).toHaveProperty("currentNumber");
    expect(rWatch.received[0].event.data).not.toHaveProperty("currentNumber");
    // Give the others every chance to receive what they must not.
    await hub.gql(issuer, `mutation { revokeCard(number: "${other}", reason: "test") { state } }`);
    await rAll.waitFor(() => rAll.received.length === 2);
    await rUnrelated.waitFor(() => rUnrelated.received.length === 1);
    expect(rUnrelated.received.map((r) => r.event.subject)).toEqual([other]);
    expect(rWatch.received.map((r) => r.event.subject)).toEqual([watched]);
    expect(rType.received).toEqual([]);
  });

  it("follows a watched V2017 card across the switch to V2023 for a key with LINEAGE_READ", async () => {
    const partner = hub.partnerKey([...WATCHER, "LINEAGE_READ"]);
    const r = await receiver();
    r.secrets = [(await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED", "CARD_SUPERSEDED", "CARD_REPORTED_LOST"])).secret];
    await issue(hub, issuer, "CAN110081080319", { validFrom: "2016-05-10", validUntil: "2026-05-09" });
    expect((await hub.gql(partner.secret, 'mutation { watchCards(numbers: ["CAN110081080319"]) }')).data.watchCards).toBe(1);
    await issue(hub, issuer, "911124198108030024", { previousNumber: "CAN110081080319", validFrom: "2024-03-01", validUntil: "2034-02-28" });
    await hub.gql(issuer, 'mutation { reportCardLost(number: "911124198108030024") { state } }');
    const expected = ["card.issued 911124198108030024", "card.reported_lost 911124198108030024", "card.superseded CAN110081080319"];
    const seen = () => new Set(r.received.map((x) => `${x.event.type} ${x.event.subject}`));
    await r.waitFor(() => expected.every((e) => seen().has(e)));
    // The V2017 card's own issue event may arrive too: fan-out judges visibility when it runs,
    // and the watch was added right after that card was issued.
    expect([...seen()].filter((e) => !expected.includes(e))).toEqual(seen().size > 3 ? ["card.issued CAN110081080319"] : []);
    const feed = await hub.gql(partner.secret, "{ changes { edges { node { type cardNumber } } } }");
    expect(feed.data.changes.edges.map((e: any) => e.node.cardNumber)).toContain("911124198108030024");
  });

  it("keeps signing with the old secret beside the new one for a day after rotation", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    const sub = await subscribe(hub, partner.secret, r.url, ["CARD_REPORTED_LOST"]);
    const rotated = await hub.gql(partner.secret, `mutation { rotateWebhookSecret(id: "${sub.id}") { secret subscription { id } } }`);
    const newSecret = rotated.data.rotateWebhookSecret.secret as string;
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newSecret).not.toBe(sub.secret);
    r.secrets = [sub.secret];
    const number = v2023(3);
    await issue(hub, issuer, number);
    await hub.gql(issuer, `mutation { reportCardLost(number: "${number}") { state } }`);
    await r.waitFor(() => r.received.length === 1);
    const got = r.received[0];
    expect(got.verified).toBe(true);
    expect(String(got.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    r.secrets = [newSecret];
    expect((r as any).verify(got.body, got.headers)).toBe(true);
    r.secrets = ["whsec_" + Buffer.alloc(32, 1).toString("base64")];
    expect((r as any).verify(got.body, got.headers)).toBe(false);
  });

  it("retries a receiver that fails half its requests until every event arrives, and logs each attempt", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    r.respond = ({ attempt }) => (attempt % 2 === 1 ? { status: 503 } : { status: 200 });
    const sub = await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"]);
    r.secrets = [sub.secret];
    const numbers = Array.from({ length: 6 }, (_, i) => v2023(100 + i));
    for (const n of numbers) await issue(hub, issuer, n);
    await r.waitFor(() => r.ids().size === numbers.length);
    expect(r.received.every((x) => x.verified)).toBe(true);
    expect([...r.attempts.values()].every((count) => count === 2)).toBe(true);
    await eventually(async () => {
      const log = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 100) { status attempt responseStatus latencyMs } }`);
      return log.data.webhookDeliveries.filter((d: any) => d.status === "SUCCEEDED").length === numbers.length;
    });
    const log = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 100) { id eventId status attempt responseStatus latencyMs error } }`);
    const failed = log.data.webhookDeliveries.filter((d: any) => d.status === "FAILED");
    expect(failed).toHaveLength(numbers.length);
    expect(failed.every((d: any) => d.attempt === 1 && d.responseStatus === 503 && d.error === "HTTP 503")).toBe(true);
    const page = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 5) { id } }`);
    const next = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 100, after: "${page.data.webhookDeliveries[4].id}") { id } }`);
    expect(page.data.webhookDeliveries.length + next.data.webhookDeliveries.length).toBe(log.data.webhookDeliveries.length);
  });

  it("tries a receiver that always fails once plus once per scheduled retry (3), then marks the delivery DEAD", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    r.respond = () => ({ status: 500 });
    const sub = await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"]);
    r.secrets = [sub.secret];
    await issue(hub, issuer, v2023(150));
    const deliveries = async () =>
      (await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 100) { status attempt responseStatus } }`)).data.webhookDeliveries as {
        status: string;
        attempt: number;
      }[];
    await eventually(async () => (await deliveries()).some((d) => d.status === "DEAD"));
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes after DEAD
    const log = await deliveries();
    expect(log.map((d) => [d.attempt, d.status]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [1, "FAILED"],
      [2, "FAILED"],
      [3, "FAILED"],
      [4, "DEAD"],
    ]);
    expect([...r.attempts.values()]).toEqual([4]);
  });

  it("disables a subscription on 410 Gone, and replays what it missed after resume", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    r.respond = () => ({ status: 410 });
    const sub = await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"]);
    r.secrets = [sub.secret];
    const first = v2023(200);
    await issue(hub, issuer, first);
    await eventually(async () => {
      const subs = await hub.gql(partner.secret, "{ webhookSubscriptions { id status disabledReason } }");
      return subs.data.webhookSubscriptions[0].status === "DISABLED";
    });
    const subs = await hub.gql(partner.secret, "{ webhookSubscriptions { status disabledReason } }");
    expect(subs.data.webhookSubscriptions[0].disabledReason).toMatch(/410/);
    const log = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}") { status responseStatus } }`);
    expect(log.data.webhookDeliveries).toEqual([{ status: "DEAD", responseStatus: 410 }]);

    const missed = [v2023(201), v2023(202)];
    for (const n of missed) await issue(hub, issuer, n);
    const refused = await hub.gql(partner.secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: 0) }`);
    expect(refused.errors?.[0].extensions.code).toBe("CONFLICT");
    r.respond = () => ({ status: 204 });
    const resumed = await hub.gql(partner.secret, `mutation { resumeWebhookSubscription(id: "${sub.id}") { status disabledReason } }`);
    expect(resumed.data.resumeWebhookSubscription).toEqual({ status: "ACTIVE", disabledReason: null });
    const feed = await hub.gql(partner.secret, "{ changes(first: 1000, types: [CARD_ISSUED]) { edges { node { sequence cardNumber } } } }");
    const firstSequence = feed.data.changes.edges.find((e: any) => e.node.cardNumber === first).node.sequence;
    const queued = await hub.gql(partner.secret, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: ${firstSequence - 1}) }`);
    expect(queued.data.replayEvents).toBe(3);
    await r.waitFor(() => r.ids().size === 3);
    expect(new Set(r.received.map((x) => x.event.subject))).toEqual(new Set([first, ...missed]));
    expect(r.received.every((x) => x.verified)).toBe(true);
  });

  it("sends a test event through the normal path and pauses on request", async () => {
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    const sub = await subscribe(hub, partner.secret, r.url, ["CARD_ISSUED"]);
    r.secrets = [sub.secret];
    const test = await hub.gql(partner.secret, `mutation { sendTestEvent(subscriptionId: "${sub.id}") { id eventId status attempt } }`);
    expect(test.data.sendTestEvent).toMatchObject({ status: "PENDING", attempt: 1 });
    await r.waitFor(() => r.received.length === 1);
    expect(r.received[0]).toMatchObject({ verified: true, id: test.data.sendTestEvent.eventId, event: { type: "webhook.test" } });
    await eventually(async () => {
      const log = await hub.gql(partner.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}") { id status } }`);
      return log.data.webhookDeliveries[0]?.status === "SUCCEEDED" && log.data.webhookDeliveries[0].id === test.data.sendTestEvent.id;
    });

    const paused = await hub.gql(partner.secret, `mutation { pauseWebhookSubscription(id: "${sub.id}") { status } }`);
    expect(paused.data.pauseWebhookSubscription.status).toBe("PAUSED");
    await issue(hub, issuer, v2023(300));
    const canary = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const rc = await receiver();
    rc.secrets = [(await subscribe(hub, canary.secret, rc.url, ["CARD_ISSUED"])).secret];
    await issue(hub, issuer, v2023(301));
    await rc.waitFor(() => rc.received.length === 1);
    expect(r.received).toHaveLength(1);
    expect((await hub.gql(partner.secret, `mutation { deleteWebhookSubscription(id: "${sub.id}") }`)).data.deleteWebhookSubscription).toBe(true);
    expect((await hub.gql(partner.secret, "{ webhookSubscriptions { id } }")).data.webhookSubscriptions).toEqual([]);
  });

  it("keeps subscriptions private to their partner", async () => {
    const owner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const stranger = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const r = await receiver();
    const sub = await subscribe(hub, owner.secret, r.url, ["CARD_ISSUED"]);
    for (const call of [
      `mutation { rotateWebhookSecret(id: "${sub.id}") { secret } }`,
      `mutation { pauseWebhookSubscription(id: "${sub.id}") { id } }`,
      `mutation { deleteWebhookSubscription(id: "${sub.id}") }`,
      `mutation { sendTestEvent(subscriptionId: "${sub.id}") { id } }`,
      `{ webhookDeliveries(subscriptionId: "${sub.id}") { id } }`,
    ]) {
      expect((await hub.gql(stranger.secret, call)).errors?.[0].extensions.code).toBe("NOT_FOUND");
    }
    expect((await hub.gql(stranger.secret, "{ webhookSubscriptions { id } }")).data.webhookSubscriptions).toEqual([]);
    expect((await hub.gql(owner.secret, "{ webhookSubscriptions { id } }")).data.webhookSubscriptions).toEqual([{ id: sub.id }]);
  });
});
