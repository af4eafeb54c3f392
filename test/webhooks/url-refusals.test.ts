/**
 * A caller cannot tell an unresolvable host from one that resolves to an internal address: the
 * hub refuses both with one message, at subscription creation and in the delivery log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { subscribe, WATCHER } from "../helpers/webhook-fixtures.ts";

const CREATE = "mutation($url: String!) { createWebhookSubscription(url: $url, eventTypes: [CARD_REVOKED]) { secret } }";
/** Loopback by the system resolver, a private literal, and a name that never resolves (.invalid). */
const UNSAFE = { "localhost": "http://localhost:9/hook", "10.0.0.1": "http://10.0.0.1:9/hook", "nothing.invalid": "http://nothing.invalid:9/hook" };

/** The message with the host (the caller's own input) taken out. */
const withoutHost = (message: string, host: string) => message.replace(host, "<host>");

describe("URL refusals", () => {
  let hub: TestHub;
  let partner: string;
  beforeAll(async () => {
    hub = await TestHub.start({ WEBHOOK_ALLOW_CIDRS: "" }, undefined, { worker: true });
    partner = hub.partnerKey(WATCHER).secret;
  });
  afterAll(async () => {
    await hub.close();
  });

  it("give unresolvable, loopback and private hosts the identical message at subscription creation", async () => {
    const answers = new Set<string>();
    for (const [host, url] of Object.entries(UNSAFE)) {
      const answer = await hub.gql(partner, CREATE, { url });
      expect(answer.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
      answers.add(JSON.stringify({ ...answer.errors![0], message: withoutHost(answer.errors![0].message, host) }));
    }
    expect([...answers]).toHaveLength(1);
    expect([...answers][0]).not.toMatch(/loopback|resolve|private/i);
  });

  it("give them the identical error text in the delivery log", async () => {
    const texts = new Set<string>();
    for (const [host, url] of Object.entries(UNSAFE)) {
      const sub = await subscribe(hub, partner, "http://93.184.216.34:9/hook", ["CARD_REVOKED"]);
      hub.services.subscriptions.update(sub.id, { url }); // as if its DNS changed after creation
      const sent = await hub.gql(partner, `mutation { sendTestEvent(subscriptionId: "${sub.id}") { id } }`);
      expect(sent.errors).toBeUndefined();
      const deadline = Date.now() + 10_000;
      let error: string | null = null;
      while (!error && Date.now() < deadline) {
        const log = await hub.gql(partner, `{ webhookDeliveries(subscriptionId: "${sub.id}") { error } }`);
        error = log.data.webhookDeliveries.find((d: { error: string | null }) => d.error)?.error ?? null;
        if (!error) await new Promise((r) => setTimeout(r, 50));
      }
      expect(error).toMatch(/^refused: /);
      texts.add(withoutHost(error!, host));
    }
    expect([...texts]).toHaveLength(1);
  });
});
