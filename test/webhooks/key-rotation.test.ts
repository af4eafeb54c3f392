/**
 * Routine key rotation: a subscription reads with the key that created it, so once that key is
 * revoked it receives nothing, and says so: DISABLED, with the reason, until a current key of the
 * partner resumes it and it reads with that key. (Found by an adversarial review: it read ACTIVE
 * while receiving nothing, and nothing moved it to the new key.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

describe("routine key rotation", () => {
  let hub: TestHub;
  let receiver: TestReceiver;
  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await hub.close();
  });

  it("shows a revoked key's subscription DISABLED with its reason, and a current key resumes it", async () => {
    const issuer = hub.key("ISSUER");
    const numbers = [v2023(78, "1971-08-08"), v2023(79, "1972-09-09")];
    for (const number of numbers) await issue(hub, issuer, number);
    const oldKey = hub.partnerKey(WATCHER);
    expect((await hub.gql(oldKey.secret, `mutation { watchCards(numbers: ${JSON.stringify(numbers)}) }`)).errors).toBeUndefined();
    const sub = await subscribe(hub, oldKey.secret, receiver.url, ["CARD_REPORTED_LOST"]);
    receiver.secrets = [sub.secret];
    const newKey = hub.key("PARTNER", { partnerId: oldKey.partnerId, scopes: WATCHER });
    const oldId = hub.services.db.$client.prepare("SELECT key_id FROM webhook_subscriptions WHERE id = ?").pluck().get(sub.id) as string;
    expect((await hub.gql(hub.key("ADMIN"), `mutation { revokeApiKey(id: "${oldId}") { revokedAt } }`)).errors).toBeUndefined();

    const listed = await hub.gql(newKey, "{ webhookSubscriptions { id status disabledReason } }");
    expect(listed.data.webhookSubscriptions.find((s: { id: string }) => s.id === sub.id)).toEqual({ id: sub.id, status: "DISABLED", disabledReason: expect.stringMatching(/key that created it was revoked/) });
    expect((await hub.gql(newKey, `mutation { sendTestEvent(subscriptionId: "${sub.id}") { id } }`)).errors?.[0].extensions.code).toBe("CONFLICT");

    const resumed = await hub.gql(newKey, `mutation { resumeWebhookSubscription(id: "${sub.id}") { status disabledReason } }`);
    expect(resumed.data.resumeWebhookSubscription).toEqual({ status: "ACTIVE", disabledReason: null });
    expect(hub.services.db.$client.prepare("SELECT key_id FROM webhook_subscriptions WHERE id = ?").pluck().get(sub.id)).not.toBe(oldId);
    expect((await hub.gql(issuer, `mutation { reportCardLost(number: "${numbers[1]}") { number } }`)).errors).toBeUndefined();
    await eventually(() => receiver.received.some((r) => r.event.type === "card.reported_lost"), 10_000, "the loss reaching the resumed subscription");
    expect(receiver.received.map((r) => r.event.subject)).toEqual([numbers[1]]);
  });
});
