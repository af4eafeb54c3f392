import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryDelay, RetryableDeliveryError } from "../../src/webhooks/retry-policy.ts";
import { TestClock, TestHub } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

const CREATE = "mutation($url: String!) { createWebhookSubscription(url: $url, eventTypes: [CARD_REVOKED]) { secret } }";

describe("subscription URLs", () => {
  let hub: TestHub;
  let production: TestHub;
  let partner: string;
  beforeAll(async () => {
    hub = await TestHub.start({ WEBHOOK_ALLOW_CIDRS: "" });
    production = await TestHub.start({ NODE_ENV: "production", WEBHOOK_ALLOW_CIDRS: "" });
    partner = hub.partnerKey(WATCHER).secret;
  });
  afterAll(async () => {
    await hub.close();
    await production.close();
  });

  it("refuses private, loopback, link-local and metadata addresses unless allow-listed", async () => {
    for (const url of [
      "http://10.0.0.1/hook",
      "http://192.168.1.20/hook",
      "http://127.0.0.1:8080/hook",
      "http://localhost:8080/hook",
      "http://[::1]/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[fd00:ec2::254]/",
      "ftp://127.0.0.1/x",
      "not a url",
      "http://user:pass@example.invalid/x",
      "http://nothing.invalid/hook",
    ]) {
      const answer = await hub.gql(partner, CREATE, { url });
      expect([url, answer.errors?.[0].extensions.code]).toEqual([url, "BAD_USER_INPUT"]);
      expect(answer.errors?.[0].message).not.toContain("user:pass");
    }
    expect((await hub.gql(partner, "{ webhookSubscriptions { id } }")).data.webhookSubscriptions).toEqual([]);
  });

  it("requires https in production mode", async () => {
    const key = production.partnerKey(WATCHER).secret;
    const answer = await production.gql(key, CREATE, { url: "http://93.184.216.34/hook" });
    expect(answer.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(answer.errors?.[0].message).toMatch(/https/);
  });

  it("validates event types, ids and paging arguments", async () => {
    const noTypes = await hub.gql(partner, 'mutation { createWebhookSubscription(url: "https://93.184.216.34/h", eventTypes: []) { secret } }');
    expect(noTypes.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const badType = await hub.gql(partner, 'mutation { createWebhookSubscription(url: "https://93.184.216.34/h", eventTypes: [NOPE]) { secret } }');
    expect(badType.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const created = await hub.gql(partner, 'mutation { createWebhookSubscription(url: "https://93.184.216.34/h", eventTypes: [CARD_REVOKED, CARD_REVOKED]) { subscription { id eventTypes url } secret } }');
    const sub = created.data.createWebhookSubscription.subscription;
    expect(sub.eventTypes).toEqual(["CARD_REVOKED"]);
    for (const call of [
      `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 0) { id } }`,
      `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 501) { id } }`,
      `{ webhookDeliveries(subscriptionId: "${sub.id}", after: "abc") { id } }`,
      `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: -1) }`,
      `mutation { watchCards(numbers: ["not-a-card"]) }`,
    ]) {
      const code = (await hub.gql(partner, call)).errors?.[0].extensions.code;
      expect([call, code]).toEqual([call, call.includes("watchCards") ? "INVALID_CARD_NUMBER" : "BAD_USER_INPUT"]);
    }
    const tooMany = await hub.gql(partner, "mutation($n: [String!]!) { watchCards(numbers: $n) }", { n: Array(1001).fill(v2023(1)) });
    expect(tooMany.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });
});

describe("retry delays", () => {
  const schedule = [5000, 30_000, 120_000];

  it("follows the schedule with ±20 % jitter", () => {
    expect(retryDelay(schedule, 1, new Error("x"), () => 0)).toBe(4000);
    expect(retryDelay(schedule, 1, new Error("x"), () => 0.999999)).toBe(6000);
    expect(retryDelay(schedule, 2, new Error("x"), () => 0.5)).toBe(30_000);
    expect(retryDelay(schedule, 3, new Error("x"), () => 0.5)).toBe(120_000);
  });

  it("honours Retry-After within [base, 2 × base]", () => {
    expect(retryDelay(schedule, 2, new RetryableDeliveryError("429", 45_000))).toBe(45_000);
    expect(retryDelay(schedule, 2, new RetryableDeliveryError("429", 1000))).toBe(30_000);
    expect(retryDelay(schedule, 2, new RetryableDeliveryError("503", 3_600_000))).toBe(60_000);
  });
});

describe("prolonged failure", () => {
  it("disables a subscription with no success for 5 days and at least 20 failed attempts", async () => {
    const clock = new TestClock(new Date("2025-06-15T04:00:00Z"));
    const hub = await TestHub.start({ WEBHOOK_RETRY_SCHEDULE: "10ms,10ms,10ms" }, clock.now, { worker: true });
    const receiver = await TestReceiver.start();
    try {
      receiver.respond = () => ({ status: 500 });
      const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
      const issuer = hub.key("ISSUER");
      const sub = await subscribe(hub, partner, receiver.url, ["CARD_ISSUED"]);
      await issue(hub, issuer, v2023(1));
      const attempts = async () =>
        (await hub.gql(partner, `{ webhookDeliveries(subscriptionId: "${sub.id}", first: 500) { status } }`)).data.webhookDeliveries;
      await receiver.waitFor(() => receiver.attempts.get([...receiver.attempts.keys()][0] ?? "") === 4);
      await new Promise((r) => setTimeout(r, 200));
      expect((await attempts()).map((a: any) => a.status)).toEqual(["DEAD", "FAILED", "FAILED", "FAILED"]);
      const status = async () => (await hub.gql(partner, "{ webhookSubscriptions { status disabledReason } }")).data.webhookSubscriptions[0];
      expect((await status()).status).toBe("ACTIVE");

      clock.advance(6 * 86_400_000);
      for (let i = 2; i <= 5; i += 1) await issue(hub, issuer, v2023(i));
      // The endpoint's breaker parks it after 5 failures in a row, on the hub's clock: let that run.
      const deadline = Date.now() + 20_000;
      while ((await status()).status === "ACTIVE" && Date.now() < deadline) {
        clock.advance(1000);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await status()).toEqual({ status: "DISABLED", disabledReason: expect.stringMatching(/no successful delivery for 5 days and 2\d failed attempts/) });
    } finally {
      await receiver.close();
      await hub.close();
    }
  }, 60_000);
});
