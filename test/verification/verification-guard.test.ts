/**
 * The NO_MATCH guard against brute force, over real HTTP and a real Redis: a free MATCH (the birth
 * date is written in the number) does not reset the misses, aliases in one request cannot all slip
 * past the count, and the keys of one partner share one count per card.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const BLOCK_AFTER = 10;
const VERIFY = "query($n: String!, $e: String, $c: String, $b: Date) { verifyHolder(input: { number: $n, englishName: $e, chineseName: $c, birthDate: $b }) { result } }";
const BIRTH_DATE = "1979-04-12"; // what v2023() writes into every number

/** The verification's result, or the error code that refused it. */
function outcome(answer: GraphQLAnswer): string {
  return answer.errors ? String(answer.errors[0].extensions.code) : answer.data.verifyHolder.result;
}

/** One request with `count` aliased verifyHolder fields, each claiming a different wrong name. */
function aliasedMisses(number: string, count: number): string {
  const fields = Array.from({ length: count }, (_, i) => `a${i}: verifyHolder(input: { number: "${number}", englishName: "WRONG, NAME${i}" }) { result }`);
  return `{ ${fields.join(" ")} }`;
}

describe("verification guard", () => {
  let hub: TestHub;
  let issuer: string;
  let serial = 500;

  beforeAll(async () => {
    // Slowing starts only at the last miss before the block, so the block itself is what is measured.
    hub = await TestHub.start({ VERIFY_SLOW_AFTER: String(BLOCK_AFTER - 1), VERIFY_BLOCK_AFTER: String(BLOCK_AFTER), VERIFY_SLOW_SECONDS: "60", VERIFY_BLOCK_SECONDS: "3600" });
    issuer = hub.key("ISSUER");
  });
  afterAll(() => hub?.close());

  async function freshCard(englishName = "MARTIN, CLAIRE"): Promise<string> {
    const number = v2023((serial += 1));
    await issue(hub, issuer, number, { englishName, chineseName: "马克莱" });
    return number;
  }

  /** VERIFY audit rows of one key, by result. */
  function audited(keyId: string): Record<string, number> {
    hub.services.audit.flush();
    const rows = hub.services.db.$client.prepare("SELECT result, count(*) AS n FROM audit_log WHERE kind = 'VERIFY' AND key_id = ? GROUP BY result").all(keyId) as { result: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.result, r.n]));
  }

  function keyIdOf(secret: string): string {
    return hub.services.apiKeys.authenticate(secret)!.keyId;
  }

  // A MATCH resets nothing: the birth date is written in the number, and an English name is often
  // known (passport, booking) when the Chinese name is what is being guessed.
  const FREE_CLAIMS: [string, Record<string, string>][] = [
    ["the birth date alone", { b: BIRTH_DATE }],
    ["the English name, while the Chinese name is guessed", { e: "Claire Martin" }],
  ];
  it.each(FREE_CLAIMS)("blocks the loop 'two wrong guesses, one MATCH' where the MATCH is on %s", async (_, free) => {
    const number = await freshCard();
    const key = hub.partnerKey().secret;
    const guess = (g: string) => ("b" in free ? { n: number, e: `WRONG, ${g}` } : { n: number, c: `错${g}` });
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      outcomes.push(outcome(await hub.gql(key, VERIFY, guess(`A${round}`))));
      outcomes.push(outcome(await hub.gql(key, VERIFY, guess(`B${round}`))));
      outcomes.push(outcome(await hub.gql(key, VERIFY, { n: number, ...free })));
    }
    expect(outcomes.filter((o) => o === "NO_MATCH")).toHaveLength(BLOCK_AFTER);
    expect(outcomes.slice(0, 3)).toEqual(["NO_MATCH", "NO_MATCH", "MATCH"]);
    // Once blocked, every later attempt is refused, the free claim too.
    const firstRefusal = outcomes.indexOf("RATE_LIMITED");
    expect(firstRefusal).toBeGreaterThan(0);
    expect(new Set(outcomes.slice(firstRefusal))).toEqual(new Set(["RATE_LIMITED"]));
    const blocked = await hub.gql(key, VERIFY, { n: number, ...free });
    expect(blocked.errors?.[0].message).toMatch(/too many non-matching verifications/);
    expect(blocked.errors?.[0].extensions.retryAfterMs).toBeGreaterThan(60_000);
  });

  it("answers at most VERIFY_BLOCK_AFTER of 20 aliased misses in one request; the rest are RATE_LIMITED, and all are audited", async () => {
    const number = await freshCard();
    const key = hub.partnerKey().secret;
    const answer = await hub.gql(key, aliasedMisses(number, 20));
    expect(answer.status).toBeLessThan(500);
    // verifyHolder is non-null, so the first refusal nulls the whole answer; the audit shows each alias.
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors?.map((e) => e.extensions.code)).toContain("RATE_LIMITED");
    expect(new Set(answer.errors?.map((e) => e.extensions.code))).toEqual(new Set(["RATE_LIMITED"]));
    await vi.waitFor(() => expect(audited(keyIdOf(key))).toEqual({ NO_MATCH: BLOCK_AFTER, RATE_LIMITED: 20 - BLOCK_AFTER }), { timeout: 2_000 });
    // The misses were all counted: the right name is refused now as well.
    expect(outcome(await hub.gql(key, VERIFY, { n: number, e: "Claire Martin" }))).toBe("RATE_LIMITED");
  });

  it("counts the misses of all keys of one partner together, while another partner is unaffected", async () => {
    const number = await freshCard();
    const { secret: first, partnerId } = hub.partnerKey();
    const second = hub.key("PARTNER", { partnerId });
    const half = BLOCK_AFTER / 2;
    for (let i = 0; i < half; i += 1) expect(outcome(await hub.gql(first, VERIFY, { n: number, e: `WRONG, FIRST${i}` }))).toBe("NO_MATCH");
    for (let i = 0; i < half; i += 1) expect(outcome(await hub.gql(second, VERIFY, { n: number, e: `WRONG, SECOND${i}` }))).toBe("NO_MATCH");
    // Each key has missed only half the limit, but the partner has reached it: both keys are refused.
    for (const key of [first, second]) {
      const refused = await hub.gql(key, VERIFY, { n: number, e: "Claire Martin" });
      expect(outcome(refused)).toBe("RATE_LIMITED");
      expect(refused.errors?.[0].message).toMatch(/too many non-matching verifications/);
    }
    // A third key minted for the partner later starts with the partner's count.
    expect(outcome(await hub.gql(hub.key("PARTNER", { partnerId }), VERIFY, { n: number, e: "Claire Martin" }))).toBe("RATE_LIMITED");
    expect(outcome(await hub.gql(hub.partnerKey().secret, VERIFY, { n: number, e: "Claire Martin" }))).toBe("MATCH");
  });

  it("counts keys without a partner (ADMIN) together, so minting more keys gives no more guesses", async () => {
    const number = await freshCard();
    const half = BLOCK_AFTER / 2;
    for (const admin of [hub.key("ADMIN"), hub.key("ADMIN")]) {
      for (let i = 0; i < half; i += 1) expect(outcome(await hub.gql(admin, VERIFY, { n: number, e: `WRONG, ADMIN${i}` }))).toBe("NO_MATCH");
    }
    const refused = await hub.gql(hub.key("ADMIN"), VERIFY, { n: number, e: "Claire Martin" });
    expect(outcome(refused)).toBe("RATE_LIMITED");
    expect(refused.errors?.[0].message).toMatch(/keys without a partner/);
  });

  it("still answers MATCH to a caller who gives the right name, after typos and many times over, while an abuser of the same card is blocked", async () => {
    const number = await freshCard("ZHANG-MÜLLER, ANNA MARIA");
    const abuser = hub.partnerKey().secret;
    for (let round = 0; round < BLOCK_AFTER / 2; round += 1) {
      for (const guess of ["A", "B"]) await hub.gql(abuser, VERIFY, { n: number, e: `WRONG, ${guess}${round}` });
      expect(outcome(await hub.gql(abuser, VERIFY, { n: number, b: BIRTH_DATE }))).not.toBe("NO_MATCH");
    }
    expect(outcome(await hub.gql(abuser, VERIFY, { n: number, e: "WRONG, AGAIN" }))).toBe("RATE_LIMITED");

    const clerk = hub.partnerKey().secret;
    expect(outcome(await hub.gql(clerk, VERIFY, { n: number, e: "Ana Maria Zhang-Muller" }))).toBe("NO_MATCH");
    expect(outcome(await hub.gql(clerk, VERIFY, { n: number, e: "Anna Maria Zhang Müller", b: "1979-04-21" }))).toBe("NO_MATCH");
    // A MATCH never counts as a miss: more matches than the limit, one by one and aliased in one request.
    for (let i = 0; i < BLOCK_AFTER + 2; i += 1) {
      expect(outcome(await hub.gql(clerk, VERIFY, { n: number, e: "anna maria zhang-müller" }))).toBe("MATCH");
    }
    const fields = Array.from({ length: 5 }, (_, i) => `m${i}: verifyHolder(input: { number: "${number}", englishName: "ZHANG-MÜLLER, ANNA MARIA" }) { result }`);
    const many = await hub.gql(clerk, `{ ${fields.join(" ")} }`);
    expect(many.errors).toBeUndefined();
    expect(Object.values(many.data).map((v: any) => v.result)).toEqual(Array(5).fill("MATCH"));
    expect(audited(keyIdOf(clerk))).toEqual({ NO_MATCH: 2, MATCH: BLOCK_AFTER + 2 + 5 });
  });
});
