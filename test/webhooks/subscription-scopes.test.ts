/**
 * Keys of one partner use only the subscriptions they may use: one created by a key with scopes the
 * caller lacks (EVENTS_ALL, LINEAGE_READ) does not exist for the caller (NOT_FOUND), in every
 * operation; the key with those scopes sees and manages it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, ALL_SCOPES, subscribe, WATCHER } from "../helpers/webhook-fixtures.ts";

const URL = "http://127.0.0.1:9/hook";

/** Every operation on one subscription, as the caller would send it. */
const OPERATIONS: Record<string, (id: string) => string> = {
  webhookDeliveries: (id) => `{ webhookDeliveries(subscriptionId: "${id}") { id } }`,
  rotateWebhookSecret: (id) => `mutation { rotateWebhookSecret(id: "${id}") { secret } }`,
  sendTestEvent: (id) => `mutation { sendTestEvent(subscriptionId: "${id}") { id } }`,
  replayEvents: (id) => `mutation { replayEvents(subscriptionId: "${id}", afterSequence: 0) }`,
  pauseWebhookSubscription: (id) => `mutation { pauseWebhookSubscription(id: "${id}") { status } }`,
  resumeWebhookSubscription: (id) => `mutation { resumeWebhookSubscription(id: "${id}") { status } }`,
  deleteWebhookSubscription: (id) => `mutation { deleteWebhookSubscription(id: "${id}") }`,
};

describe("subscriptions by scope, within one partner", () => {
  let hub: TestHub;
  let eventsAll: string;
  let lineage: string;
  let watcher: string;
  const listed = async (secret: string) => ((await hub.gql(secret, "{ webhookSubscriptions { id } }")).data.webhookSubscriptions as { id: string }[]).map((s) => s.id);
  beforeAll(async () => {
    hub = await TestHub.start();
    const partner = hub.partnerKey(ALL_SCOPES);
    lineage = partner.secret;
    eventsAll = hub.key("PARTNER", { partnerId: partner.partnerId, scopes: ALL_EVENTS_NO_LINEAGE });
    watcher = hub.key("PARTNER", { partnerId: partner.partnerId, scopes: WATCHER });
  });
  afterAll(async () => {
    await hub.close();
  });

  it("a key without EVENTS_ALL cannot list, read, rotate, test, replay, pause, resume or delete an EVENTS_ALL subscription", async () => {
    const wide = await subscribe(hub, eventsAll, URL, ["CARD_REVOKED"]);
    const narrow = await subscribe(hub, watcher, URL, ["CARD_REVOKED"]);
    expect(await listed(watcher)).toEqual([narrow.id]);
    for (const [name, call] of Object.entries(OPERATIONS)) {
      const answer = await hub.gql(watcher, call(wide.id));
      expect([name, answer.errors?.[0].extensions.code, answer.errors?.[0].message]).toEqual([name, "NOT_FOUND", `subscription ${wide.id} does not exist`]);
    }
    // Nothing changed: the EVENTS_ALL key still sees it active, with its deliveries and its secret.
    expect(await listed(eventsAll)).toEqual([wide.id, narrow.id]);
    const status = await hub.gql(eventsAll, "{ webhookSubscriptions { id status } }");
    expect(status.data.webhookSubscriptions[0]).toEqual({ id: wide.id, status: "ACTIVE" });
    for (const [name, call] of Object.entries(OPERATIONS)) {
      if (name === "deleteWebhookSubscription") continue;
      const answer = await hub.gql(eventsAll, call(wide.id));
      expect([name, answer.errors]).toEqual([name, undefined]);
    }
    // The key with more scopes manages the narrower key's subscription too.
    expect((await hub.gql(eventsAll, OPERATIONS.deleteWebhookSubscription(narrow.id))).data.deleteWebhookSubscription).toBe(true);
    expect((await hub.gql(eventsAll, OPERATIONS.deleteWebhookSubscription(wide.id))).data.deleteWebhookSubscription).toBe(true);
  });

  it("a subscription created by a LINEAGE_READ key is hidden from a key without LINEAGE_READ", async () => {
    const withLineage = await subscribe(hub, lineage, URL, ["CARD_SUPERSEDED"]);
    expect(await listed(lineage)).toContain(withLineage.id);
    expect(await listed(eventsAll)).not.toContain(withLineage.id);
    for (const name of ["rotateWebhookSecret", "replayEvents", "webhookDeliveries"]) {
      expect((await hub.gql(eventsAll, OPERATIONS[name](withLineage.id))).errors?.[0].extensions.code).toBe("NOT_FOUND");
    }
  });

  it("another partner's subscription stays NOT_FOUND even for a key with every scope", async () => {
    const own = await subscribe(hub, eventsAll, URL, ["CARD_REVOKED"]);
    const other = hub.partnerKey(ALL_SCOPES).secret;
    expect(await listed(other)).toEqual([]);
    expect((await hub.gql(other, OPERATIONS.rotateWebhookSecret(own.id))).errors?.[0].extensions.code).toBe("NOT_FOUND");
  });
});
