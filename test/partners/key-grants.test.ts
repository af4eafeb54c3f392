/**
 * createApiKey: a new key gets at most the scopes of the key creating it. The CLI (the operator on
 * the machine, with the database file) is trusted and creates keys with any of the role's scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";

const CREATE = `mutation ($role: Role!, $partnerId: ID, $scopes: [Scope!]) {
  createApiKey(role: $role, partnerId: $partnerId, scopes: $scopes) { secret apiKey { role scopes } }
}`;

describe("createApiKey grants at most the caller's scopes", () => {
  let hub: TestHub;
  let narrowAdmin: string;
  let partnerId: string;
  beforeAll(async () => {
    hub = await TestHub.start();
    narrowAdmin = hub.key("ADMIN", { scopes: ["CARDS_CHECK"] });
    partnerId = hub.partnerKey().partnerId;
  });
  afterAll(async () => {
    await hub.close();
  });

  it("a CARDS_CHECK-only ADMIN key cannot mint a wider key, by naming scopes or by defaults", async () => {
    // (ISSUER keys are not created through the API at all: import-abuse.test.ts.)
    for (const [role, scopes] of [["ADMIN", ["CARDS_CHECK", "HOLDERS_VERIFY"]], ["PARTNER", ["EVENTS_ALL"]], ["PARTNER", ["LINEAGE_READ"]]] as const) {
      const answer = await hub.gql(narrowAdmin, CREATE, { role, scopes, partnerId: role === "PARTNER" ? partnerId : null });
      expect(answer.data).toBeNull();
      expect(answer.errors?.[0].extensions.code).toBe("FORBIDDEN");
      expect(answer.errors?.[0].message).toMatch(new RegExp(`does not carry ${scopes.at(-1)}`));
    }
    const full = await hub.gql(narrowAdmin, CREATE, { role: "ADMIN" });
    expect(full.data.createApiKey.apiKey).toEqual({ role: "ADMIN", scopes: ["CARDS_CHECK"] });
    const partner = await hub.gql(narrowAdmin, CREATE, { role: "PARTNER", partnerId });
    expect(partner.data.createApiKey.apiKey.scopes).toEqual(["CARDS_CHECK"]);
    // The minted ADMIN key is as narrow as its maker: it cannot verify holders.
    const verify = await hub.gql(full.data.createApiKey.secret, `{ verifyHolder(input: { number: "911124198108030024", englishName: "A B" }) { result } }`);
    expect(verify.errors?.[0].extensions.code).toBe("FORBIDDEN");
  });

  it("a key may grant a subset of its own scopes, and a full ADMIN key any of the role's", async () => {
    const subset = await hub.gql(hub.key("ADMIN", { scopes: ["CARDS_CHECK", "EVENTS_ALL"] }), CREATE, { role: "PARTNER", partnerId, scopes: ["EVENTS_ALL"] });
    expect(subset.data.createApiKey.apiKey.scopes).toEqual(["EVENTS_ALL"]);
    const full = await hub.gql(hub.key("ADMIN"), CREATE, { role: "PARTNER", partnerId, scopes: ["LINEAGE_READ", "EVENTS_ALL"] });
    expect(full.data.createApiKey.apiKey.scopes).toEqual(["LINEAGE_READ", "EVENTS_ALL"]);
    const fullDefaults = await hub.gql(hub.key("ADMIN"), CREATE, { role: "ADMIN" });
    expect(fullDefaults.data.createApiKey.apiKey.scopes).toHaveLength(5);
  });

  it("a scope the role cannot carry stays BAD_USER_INPUT", async () => {
    const answer = await hub.gql(hub.key("ADMIN"), CREATE, { role: "VIEWER", scopes: ["EVENTS_ALL"] });
    expect(answer.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("the operator (no calling key: CLI, demo seed) creates keys with any of the role's scopes", () => {
    expect(hub.services.apiKeys.create({ role: "ADMIN" }).apiKey.scopes).toHaveLength(5);
  });
});
