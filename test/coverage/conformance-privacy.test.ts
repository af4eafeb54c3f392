/**
 * The conformance probe posts probe numbers to a partner's webhook. Besides synthetic numbers it
 * tests a lost instance and its replacement, a real card of the register: only one the partner
 * watches (an adversarial review found it sent any partner a real lost card).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

describe("conformance probe payload", () => {
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

  it("sends a real lost card only to a partner that watches it", async () => {
    const issuer = hub.key("ISSUER");
    const number = v2023(321, "1966-06-06");
    const input = { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "REAL, HOLDER" };
    const mutate = async (query: string, variables: Record<string, unknown>) => {
      const answer = await hub.gql(issuer, query, variables);
      if (answer.errors) throw new Error(JSON.stringify(answer.errors));
    };
    await mutate("mutation($input: IssueCardInput!) { issueCard(input: $input) { number } }", { input });
    await mutate("mutation($n: String!) { reportCardLost(number: $n, issueCount: 0) { number } }", { n: number });
    await mutate("mutation($input: IssueCardInput!) { issueCard(input: $input) { number } }", { input: { ...input, issueCount: 1 } });

    const partner = hub.partnerKey(WATCHER); // no EVENTS_ALL, watches no number
    const sub = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
    receiver.secrets = [sub.secret];
    const run = await hub.gql(hub.key("ADMIN"), `mutation { runConformanceProbe(partnerId: "${partner.partnerId}") { id } }`);
    expect(run.errors).toBeUndefined();
    await receiver.waitFor(() => receiver.received.some((r) => r.event.type === "conformance.probe"));
    const probe = receiver.received.find((r) => r.event.type === "conformance.probe")!.event as unknown as { data: { items: { number: string; issueCount?: number }[] } };
    const sent = probe.data.items.filter((item) => item.number === number);
    expect(sent, "real register numbers sent to a partner not entitled to them").toEqual([]);

    // Once the partner watches the card, the probe may test it: the partner already sees its events.
    expect((await hub.gql(partner.secret, `mutation { watchCards(numbers: ["${number}"]) }`)).errors).toBeUndefined();
    receiver.received.length = 0;
    expect((await hub.gql(hub.key("ADMIN"), `mutation { runConformanceProbe(partnerId: "${partner.partnerId}") { id } }`)).errors).toBeUndefined();
    await receiver.waitFor(() => receiver.received.some((r) => r.event.type === "conformance.probe"));
    const again = receiver.received.find((r) => r.event.type === "conformance.probe")!.event as unknown as { data: { items: { number: string; issueCount?: number }[] } };
    expect(again.data.items.filter((item) => item.number === number).map((item) => item.issueCount)).toEqual([0, 1]);
  });
});
