/**
 * The enumeration guard: a V2023 number is fixed by its holder's province, nationality and birth date
 * up to a 3-digit sequence, so guessing a holder's new number means checking many numbers of one
 * stem. More than ENUMERATION_LIMIT distinct numbers of one stem per partner (or key) and window are
 * RATE_LIMITED and audited; checks of many different holders are not. Real hub, HTTP and Redis.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeV2017Number } from "../../src/card-numbers/card-number-generator.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { EnumerationGuard } from "../../src/partners/enumeration-guard.ts";
import type { Principal } from "../../src/partners/roles.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const LIMIT = 5;
const CHECK = "query($n: String!) { checkCard(number: $n) { result } }";
const CHECKS = "query($n: [String!]!) { checkCards(numbers: $n) { result } }";

function codeOf(answer: GraphQLAnswer): string | undefined {
  return answer.errors?.[0]?.extensions.code;
}

/** The n-th day after 1950-01-01: one holder each, so every number has its own stem. */
function birthDate(n: number): string {
  return new Date(Date.UTC(1950, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
}

describe("enumeration of one stem over HTTP", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ ENUMERATION_LIMIT: String(LIMIT) });
    await issue(hub, hub.key("ISSUER"), v2023(3));
  });
  afterAll(async () => {
    await hub?.close();
  });

  function refusals(partnerId: string): { n: number } {
    hub.services.audit.flush();
    return hub.services.db.$client
      .prepare("SELECT count(*) AS n FROM audit_log WHERE partner_id = ? AND result = 'RATE_LIMITED' AND kind = 'CHECK' AND number_digest IS NOT NULL")
      .get(partnerId) as { n: number };
  }

  it("one number at a time: the sixth distinct number of a stem is RATE_LIMITED, audited, and so is the partner's other key", async () => {
    const { secret, partnerId } = hub.partnerKey(["CARDS_CHECK"]);
    for (let i = 0; i < LIMIT; i += 1) {
      const answer = await hub.gql(secret, CHECK, { n: v2023(i) });
      expect(answer.errors, `check ${i}`).toBeUndefined();
    }
    const refused = await hub.gql(secret, CHECK, { n: v2023(LIMIT) });
    expect(refused.status).toBeLessThan(500);
    expect(codeOf(refused)).toBe("RATE_LIMITED");
    expect(refused.errors?.[0].extensions.retryAfterMs).toBeGreaterThan(0);
    expect(refusals(partnerId).n).toBe(1);
    // Numbers already counted are still answered, as are other stems.
    expect((await hub.gql(secret, CHECK, { n: v2023(3) })).data.checkCard.result).toBe("VALID");
    expect((await hub.gql(secret, CHECK, { n: v2023(LIMIT, "1980-01-01") })).errors).toBeUndefined();
    // The count is the partner's: a second key of the same partner is refused too.
    const second = hub.key("PARTNER", { partnerId, scopes: ["CARDS_CHECK"] });
    expect(codeOf(await hub.gql(second, CHECK, { n: v2023(LIMIT + 1) }))).toBe("RATE_LIMITED");
    expect(refusals(partnerId).n).toBe(2);
  });

  it("a batch of candidates past the limit is refused as a whole and every number is audited", async () => {
    const { secret, partnerId } = hub.partnerKey(["CARDS_CHECK"]);
    const candidates = Array.from({ length: 50 }, (_, i) => v2023(i));
    const refused = await hub.gql(secret, CHECKS, { n: candidates });
    expect(codeOf(refused)).toBe("RATE_LIMITED");
    expect(refused.data ?? null).toBeNull();
    expect(refusals(partnerId).n).toBe(candidates.length);
    // Nothing of the refused batch was counted: the limit's worth still passes, one more does not.
    expect((await hub.gql(secret, CHECKS, { n: candidates.slice(0, LIMIT) })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(secret, CHECKS, { n: candidates.slice(LIMIT, LIMIT + 1) }))).toBe("RATE_LIMITED");
  });

  it("V2017 candidates of one stem (acceptance place, sequence, check digit) are counted the same way", async () => {
    const { secret } = hub.partnerKey(["CARDS_CHECK"]);
    const candidates = Array.from({ length: LIMIT + 1 }, (_, i) =>
      makeV2017Number({ nationalityAlpha3: "CAN", acceptanceCode: `11${String(i).padStart(2, "0")}`, birthDate: "1979-04-12", sequence: i % 10 }),
    );
    expect((await hub.gql(secret, CHECKS, { n: candidates.slice(0, LIMIT) })).errors).toBeUndefined();
    expect(codeOf(await hub.gql(secret, CHECK, { n: candidates[LIMIT] }))).toBe("RATE_LIMITED");
  });

  it("guessing through verifyHolder or watchCards is counted the same way (audited as VERIFY and CHECK)", async () => {
    const verify = "query($n: String!) { verifyHolder(input: { number: $n, englishName: \"TEST, HOLDER\" }) { result } }";
    const { secret, partnerId } = hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY"]);
    for (let i = 0; i < LIMIT; i += 1) expect((await hub.gql(secret, verify, { n: v2023(i, "1985-05-05") })).errors, `verify ${i}`).toBeUndefined();
    expect(codeOf(await hub.gql(secret, verify, { n: v2023(LIMIT, "1985-05-05") }))).toBe("RATE_LIMITED");
    hub.services.audit.flush();
    const verifyRefusals = "SELECT count(*) AS n FROM audit_log WHERE partner_id = ? AND kind = 'VERIFY' AND result = 'RATE_LIMITED'";
    expect((hub.services.db.$client.prepare(verifyRefusals).get(partnerId) as { n: number }).n).toBe(1);
    // The count is one per partner whatever the operation: a check of the next guess is refused too.
    expect(codeOf(await hub.gql(secret, CHECK, { n: v2023(LIMIT + 1, "1985-05-05") }))).toBe("RATE_LIMITED");

    const watcher = hub.partnerKey(["CARDS_CHECK", "WEBHOOKS_MANAGE"]);
    const watch = "mutation($n: [String!]!) { watchCards(numbers: $n) }";
    const guesses = Array.from({ length: LIMIT + 1 }, (_, i) => v2023(i));
    expect(codeOf(await hub.gql(watcher.secret, watch, { n: guesses }))).toBe("RATE_LIMITED");
    expect(refusals(watcher.partnerId).n).toBe(guesses.length);
    expect((await hub.gql(watcher.secret, watch, { n: [v2023(3)] })).errors).toBeUndefined();
  });

  it("ordinary checks of many different holders, and repeats of one number, are unaffected (while one stem still is not)", async () => {
    const { secret, partnerId } = hub.partnerKey(["CARDS_CHECK"]);
    const holders = Array.from({ length: 1000 }, (_, i) => v2023(i % 1000, birthDate(i)));
    for (let round = 0; round < 3; round += 1) {
      const answer = await hub.gql(secret, CHECKS, { n: holders });
      expect(answer.errors, `round ${round}`).toBeUndefined();
      expect(answer.data.checkCards).toHaveLength(holders.length);
    }
    for (let i = 0; i < 30; i += 1) expect((await hub.gql(secret, CHECK, { n: holders[i] })).errors).toBeUndefined();
    for (let i = 0; i < 30; i += 1) expect((await hub.gql(secret, CHECK, { n: v2023(3) })).errors).toBeUndefined();
    expect(refusals(partnerId).n).toBe(0);
    // The same key guessing within one stem is still stopped.
    const guesses = await hub.gql(secret, CHECKS, { n: Array.from({ length: LIMIT + 1 }, (_, i) => v2023(i, "1990-02-02")) });
    expect(codeOf(guesses)).toBe("RATE_LIMITED");
  });
});

describe("the count is shared by every api process", () => {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());

  it("numbers answered by one process count against the other, within two per process", async () => {
    const prefix = uniquePrefix();
    const settings = { perStem: LIMIT, windowMs: 60_000 };
    const [a, b] = [new EnumerationGuard(redis, prefix, settings, null), new EnumerationGuard(redis, prefix, settings, null)];
    const principal: Principal = { keyId: "key_1", role: "PARTNER", scopes: new Set(["CARDS_CHECK"]), partnerId: "ptn_1" };
    const admitted = async (guard: EnumerationGuard, number: string) => {
      try {
        await guard.admit(principal, [number], "CHECK");
        return true;
      } catch {
        return false;
      }
    };
    let passed = 0;
    for (let i = 0; i < 4 * LIMIT; i += 1) {
      if (await admitted(i % 2 === 0 ? a : b, v2023(i))) passed += 1;
      await Promise.all([a.flush(), b.flush()]);
    }
    expect(passed).toBeGreaterThanOrEqual(LIMIT);
    expect(passed).toBeLessThanOrEqual(LIMIT + 2 * 2);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("keys without a partner", () => {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());

  it("share one count per role, since an ADMIN can mint more of them (and a VIEWER cannot spend the ADMINs')", async () => {
    const guard = new EnumerationGuard(redis, uniquePrefix(), { perStem: LIMIT, windowMs: 60_000 }, null);
    const keys: Principal[] = Array.from({ length: 2 * LIMIT }, (_, i) => ({ keyId: `key_${i}`, role: "VIEWER", scopes: new Set(["CARDS_CHECK"]), partnerId: null }));
    const outcomes: string[] = [];
    for (const [i, key] of keys.entries()) {
      outcomes.push(await Promise.resolve(guard.admit(key, [v2023(i)], "CHECK")).then(() => "admitted", (error: { code?: string }) => error.code ?? "thrown"));
      await guard.flush();
    }
    expect(outcomes.filter((o) => o === "admitted").length).toBeLessThanOrEqual(LIMIT + 2);
    expect(outcomes.slice(-2)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    // The viewers spent their count on this stem; an ADMIN still checks it.
    await guard.admit({ keyId: "key_admin", role: "ADMIN", scopes: new Set(["CARDS_CHECK"]), partnerId: null }, [v2023(0)], "CHECK");
    await guard.close();
  });
});

describe("while Redis is unreachable", () => {
  it("each process counts alone: checks go on, and guessing past the limit is still refused", async () => {
    // A port nobody listens on: every Redis call fails at once.
    const dead = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    const guard = new EnumerationGuard(dead, uniquePrefix(), { perStem: LIMIT, windowMs: 60_000 }, null);
    const principal: Principal = { keyId: "key_2", role: "PARTNER", scopes: new Set(["CARDS_CHECK"]), partnerId: "ptn_2" };
    const outcomes: string[] = [];
    for (let i = 0; i < 2 * LIMIT; i += 1) {
      try {
        await guard.admit(principal, [v2023(i)], "CHECK");
        outcomes.push("admitted");
      } catch (error) {
        outcomes.push((error as { code?: string }).code ?? "thrown");
      }
      await guard.flush();
    }
    expect(outcomes).toEqual([...Array(LIMIT).fill("admitted"), ...Array(LIMIT).fill("RATE_LIMITED")]);
    // Different holders are unaffected.
    for (let i = 0; i < 3 * LIMIT; i += 1) await guard.admit(principal, [v2023(1, birthDate(i))], "CHECK");
    await guard.close();
    dead.disconnect();
  });
});

describe("configuration", () => {
  it("defaults to 20 distinct numbers per stem per hour; bad values stop the start naming the variable", () => {
    expect(loadConfig({}).limits).toMatchObject({ enumerationPerStem: 20, enumerationWindowSeconds: 3600 });
    expect(loadConfig({ ENUMERATION_LIMIT: "50", ENUMERATION_WINDOW_SECONDS: "86400" }).limits).toMatchObject({
      enumerationPerStem: 50,
      enumerationWindowSeconds: 86_400,
    });
    for (const env of [{ ENUMERATION_LIMIT: "1" }, { ENUMERATION_LIMIT: "many" }, { ENUMERATION_WINDOW_SECONDS: "0" }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${Object.keys(env)[0]} `));
    }
  });
});
