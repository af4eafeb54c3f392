import { describe, expect, it } from "vitest";
import { expireDueCards } from "../../src/cards/card-expiry.ts";
import { issueCard, type IssueCardData } from "../../src/cards/card-issuing.ts";
import { reportCardLost } from "../../src/cards/card-register.ts";
import { TestClock, TestHub, tempServices } from "../helpers/temp-hub.ts";
import { TestReceiver } from "../helpers/receiver.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

function card(n: number, validUntil: string): IssueCardData {
  return { number: v2023(n), validFrom: "2023-12-01", validUntil, englishName: "EXPIRY, TEST" };
}

function eventsOf(services: ReturnType<typeof tempServices>, type: string) {
  return services.db.$client.prepare("SELECT card_number AS number, issue_count AS issueCount, occurred_at AS at, data FROM events WHERE type = ? ORDER BY sequence").all(type) as {
    number: string;
    issueCount: number;
    at: string;
    data: string;
  }[];
}

describe("expiry sweep", () => {
  it("marks cards past validUntil EXPIRED once, with one CARD_EXPIRED event each, and is idempotent", async () => {
    const clock = new TestClock(new Date("2025-06-15T04:00:00Z"));
    const services = tempServices(clock);
    issueCard(services.register, card(1, "2025-06-14"));
    issueCard(services.register, card(2, "2025-06-15"));
    issueCard(services.register, card(3, "2025-01-31"));
    issueCard(services.register, card(4, "2025-03-01"));
    reportCardLost(services.register, v2023(4));

    expect(await expireDueCards(services.register)).toBe(2);
    const expired = eventsOf(services, "CARD_EXPIRED");
    expect(expired.map((e) => e.number).sort()).toEqual([v2023(1), v2023(3)].sort());
    const first = expired.find((e) => e.number === v2023(1))!;
    expect(first.at).toBe("2025-06-14T16:00:00.000Z");
    expect(JSON.parse(first.data)).toMatchObject({ state: "EXPIRED", previousState: "VALID" });
    expect(services.lookup.checkCard(v2023(1), null, { canReadLineage: false })).toMatchObject({ result: "EXPIRED", card: { state: "EXPIRED" } });
    expect(services.lookup.checkCard(v2023(4), null, { canReadLineage: false }).result).toBe("REPORTED_LOST");

    expect(await expireDueCards(services.register)).toBe(0);
    expect(eventsOf(services, "CARD_EXPIRED")).toHaveLength(2);

    clock.advance(24 * 3600 * 1000); // China's date is now 2025-06-16: card 2 has expired
    expect(await expireDueCards(services.register)).toBe(1);
    expect(eventsOf(services, "CARD_EXPIRED").map((e) => e.number)).toContain(v2023(2));
  });

  it("expires more cards than one batch holds", async () => {
    const services = tempServices(new TestClock(new Date("2025-06-15T04:00:00Z")));
    for (let i = 0; i < 620; i += 1) issueCard(services.register, card(i % 1000, "2024-12-31"));
    expect(await expireDueCards(services.register)).toBe(620);
    expect(await expireDueCards(services.register)).toBe(0);
  });

  it("runs on the worker's schedule and reaches subscribers as card.expired", async () => {
    const hub = await TestHub.start({ EXPIRY_SWEEP_MS: "200" }, undefined, { worker: true });
    const receiver = await TestReceiver.start();
    try {
      const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
      receiver.secrets = [(await subscribe(hub, partner, receiver.url, ["CARD_EXPIRED"])).secret];
      issueCard(hub.services.register, card(7, "2024-12-31"));
      await receiver.waitFor(() => receiver.received.length === 1);
      expect(receiver.received[0].event).toMatchObject({ type: "card.expired", subject: v2023(7), data: { state: "EXPIRED" } });
      await new Promise((r) => setTimeout(r, 600));
      expect(receiver.ids().size).toBe(1);
    } finally {
      await receiver.close();
      await hub.close();
    }
  });
});
