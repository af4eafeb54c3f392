/**
 * Lineage inference by timestamps: a V2017 → V2023 switch supersedes the old card at the instant the
 * new one is issued. A key without LINEAGE_READ must not be able to link the two numbers by those
 * instants (they are shown to the day); a LINEAGE_READ key keeps exact instants and the lineage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeV2017Number, makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { TestClock, TestHub } from "../helpers/temp-hub.ts";

const DAY_MS = 86_400_000;
const CHINA_OFFSET_MS = 8 * 3_600_000;
const CARD = "card { number state validFrom stateChangedAt previousNumber currentNumber }";
const CHECKS = `query($n: [String!]!) { checkCards(numbers: $n) { ${CARD} } }`;
const CHECK = `query($n: String!) { checkCard(number: $n) { ${CARD} } }`;
const ISSUE = "mutation($input: IssueCardInput!) { issueCard(input: $input) { number } }";

const OLD = makeV2017Number({ nationalityAlpha3: "CAN", acceptanceCode: "1100", birthDate: "1981-08-03", sequence: 3, checkDigit: 7 });
const NEW = makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: 24 });
/** 02:23 on 16 June in China, 18:23 on 15 June in UTC: the China day is not the UTC day. */
const SWITCH_AT = "2025-06-15T18:23:45.678Z";

type CardView = { number: string; state: string; validFrom: string; stateChangedAt: string; previousNumber: string | null; currentNumber: string | null };

/** Exposed no more precisely than the China day the switch fell on. */
function expectDayOnly(shown: string): void {
  const at = Date.parse(shown);
  expect(shown).not.toBe(SWITCH_AT);
  expect((at + CHINA_OFFSET_MS) % DAY_MS, `${shown} is midnight in China`).toBe(0);
  expect(at).toBeLessThanOrEqual(Date.parse(SWITCH_AT));
  expect(Date.parse(SWITCH_AT)).toBeLessThan(at + DAY_MS);
}

describe("timestamps of a switched pair", () => {
  let hub: TestHub;
  let issuer: string;
  beforeAll(async () => {
    const clock = new TestClock(new Date("2025-06-15T04:00:00.000Z"));
    hub = await TestHub.start({}, clock.now);
    issuer = hub.key("ISSUER");
    const first = await hub.gql(issuer, ISSUE, { input: { number: OLD, validFrom: "2016-05-10", validUntil: "2026-05-09", englishName: "MARTIN, CLAIRE" } });
    expect(first.errors).toBeUndefined();
    clock.current = new Date(SWITCH_AT);
    const switched = await hub.gql(issuer, ISSUE, {
      input: { number: NEW, previousNumber: OLD, validFrom: "2025-06-16", validUntil: "2035-06-15", englishName: "MARTIN, CLAIRE" },
    });
    expect(switched.errors).toBeUndefined();
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("a CARDS_CHECK-only key sees both instants only to the day, on checkCards and checkCard", async () => {
    const key = hub.partnerKey(["CARDS_CHECK"]).secret;
    const batch = await hub.gql(key, CHECKS, { n: [OLD, NEW] });
    expect(batch.errors).toBeUndefined();
    const [old, fresh] = batch.data.checkCards.map((c: { card: CardView }) => c.card) as CardView[];
    expect(old.state).toBe("SUPERSEDED");
    expect(fresh.state).toBe("VALID");
    for (const card of [old, fresh]) {
      expectDayOnly(card.stateChangedAt);
      expect(card.previousNumber).toBeNull();
      expect(card.currentNumber).toBeNull();
    }
    for (const number of [OLD, NEW]) {
      const single = await hub.gql(key, CHECK, { n: number });
      expect(single.errors).toBeUndefined();
      expectDayOnly(single.data.checkCard.card.stateChangedAt);
    }
  });

  it("a LINEAGE_READ key keeps the exact instants and the lineage", async () => {
    const key = hub.partnerKey(["CARDS_CHECK", "LINEAGE_READ"]).secret;
    const batch = await hub.gql(key, CHECKS, { n: [OLD, NEW] });
    expect(batch.errors).toBeUndefined();
    const [old, fresh] = batch.data.checkCards.map((c: { card: CardView }) => c.card) as CardView[];
    expect(old.stateChangedAt).toBe(SWITCH_AT);
    expect(fresh.stateChangedAt).toBe(SWITCH_AT);
    expect(old.currentNumber).toBe(NEW);
    expect(fresh.previousNumber).toBe(OLD);
  });
});
