/**
 * A stolen partner key creates a webhook subscription to the thief's URL; the key is revoked. The
 * subscription reads with its creating key, so from then on it receives nothing (found by an
 * adversarial review: the partner's watched events kept going to the thief).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

describe("subscriptions of a revoked key", () => {
  let hub: TestHub;
  let thief: TestReceiver;
  let owner: TestReceiver;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    thief = await TestReceiver.start();
    owner = await TestReceiver.start();
  });
  afterAll(async () => {
    await thief.close();
    await owner.close();
    await hub.close();
  });

  it("receive nothing once the key that created them is revoked", async () => {
    const issuer = hub.key("ISSUER");
    const number = v2023(77, "1970-07-07");
    await issue(hub, issuer, number);
    const partner = hub.partnerKey(WATCHER);
    const watched = await hub.gql(partner.secret, `mutation { watchCards(numbers: ["${number}"]) }`);
    expect(watched.errors).toBeUndefined();
    // The stolen key: same partner, created the subscription to the thief's endpoint.
    const stolen = hub.key("PARTNER", { partnerId: partner.partnerId, scopes: WATCHER });
    const sub = await subscribe(hub, stolen, thief.url, ["CARD_REPORTED_LOST"]);
    thief.secrets = [sub.secret];
    // The partner's own subscription, from a key that stays valid: it must still hear of the loss.
    owner.secrets = [(await subscribe(hub, partner.secret, owner.url, ["CARD_REPORTED_LOST"])).secret];
    const keyId = hub.services.db.$client.prepare("SELECT key_id FROM webhook_subscriptions WHERE id = ?").pluck().get(sub.id) as string;
    const revoked = await hub.gql(hub.key("ADMIN"), `mutation { revokeApiKey(id: "${keyId}") { revokedAt } }`);
    expect(revoked.errors).toBeUndefined();
    const lost = await hub.gql(issuer, `mutation { reportCardLost(number: "${number}") { number } }`);
    expect(lost.errors).toBeUndefined();
    await eventually(() => owner.received.length === 1, 10_000, "the valid subscription receiving the loss");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(owner.received.map((r) => r.event.type)).toEqual(["card.reported_lost"]);
    expect(thief.received.map((r) => r.event.type), "events delivered after the creating key was revoked").toEqual([]);
  });
});
