import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHubSchema } from "../../src/http/schema.ts";
import { ACCESS_RULES } from "../../src/partners/access-rules.ts";
import { TestHub } from "../helpers/temp-hub.ts";

type Caller = "ADMIN" | "ISSUER" | "VIEWER" | "PARTNER" | "PARTNER_NO_SCOPES" | "PARTNER_ALL_SCOPES";
const EVERYONE: Caller[] = ["ADMIN", "ISSUER", "VIEWER", "PARTNER", "PARTNER_NO_SCOPES", "PARTNER_ALL_SCOPES"];
const V2023 = "911124198108030024";
const WEBHOOK_MANAGERS: Caller[] = ["PARTNER", "PARTNER_ALL_SCOPES"];
const PARTNERS: Caller[] = ["PARTNER", "PARTNER_NO_SCOPES", "PARTNER_ALL_SCOPES"];

/** The expected access matrix, written out by hand: who may call what. */
const MATRIX: Record<string, { call: string; allowed: Caller[] }> = {
  parseCardNumber: { call: `{ parseCardNumber(number: "${V2023}") { valid } }`, allowed: EVERYONE },
  checkCard: { call: `{ checkCard(number: "${V2023}") { result } }`, allowed: ["ADMIN", "ISSUER", "VIEWER", "PARTNER", "PARTNER_ALL_SCOPES"] },
  checkCards: { call: `{ checkCards(numbers: ["${V2023}"]) { result } }`, allowed: ["ADMIN", "ISSUER", "VIEWER", "PARTNER", "PARTNER_ALL_SCOPES"] },
  verifyHolder: {
    call: `{ verifyHolder(input: { number: "${V2023}", englishName: "A B" }) { result auditId } }`,
    allowed: ["ADMIN", "PARTNER", "PARTNER_ALL_SCOPES"],
  },
  changes: { call: "{ changes { pageInfo { hasNextPage } } }", allowed: ["ADMIN", "ISSUER", "PARTNER", "PARTNER_NO_SCOPES", "PARTNER_ALL_SCOPES"] },
  me: { call: "{ me { id } }", allowed: EVERYONE },
  partners: { call: "{ partners { id } }", allowed: ["ADMIN", "VIEWER"] },
  issueCard: {
    call: `mutation { issueCard(input: { number: "${V2023}", validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "A B" }) { number } }`,
    allowed: ["ISSUER"],
  },
  reportCardLost: { call: `mutation { reportCardLost(number: "${V2023}") { state } }`, allowed: ["ISSUER"] },
  revokeCard: { call: `mutation { revokeCard(number: "${V2023}", reason: "test") { state } }`, allowed: ["ISSUER"] },
  setHolderStatus: { call: `mutation { setHolderStatus(number: "${V2023}", status: ACTIVE) { state } }`, allowed: ["ISSUER"] },
  createPartner: { call: 'mutation { createPartner(name: "X", industry: RAIL) { id } }', allowed: ["ADMIN"] },
  createApiKey: { call: "mutation { createApiKey(role: VIEWER) { secret } }", allowed: ["ADMIN"] },
  revokeApiKey: { call: 'mutation { revokeApiKey(id: "key_missing") { id } }', allowed: ["ADMIN"] },
  webhookSubscriptions: { call: "{ webhookSubscriptions { id } }", allowed: WEBHOOK_MANAGERS },
  webhookDeliveries: { call: '{ webhookDeliveries(subscriptionId: "sub_missing") { id } }', allowed: WEBHOOK_MANAGERS },
  createWebhookSubscription: {
    call: 'mutation { createWebhookSubscription(url: "http://127.0.0.1:9/hook", eventTypes: [CARD_REVOKED]) { secret } }',
    allowed: WEBHOOK_MANAGERS,
  },
  rotateWebhookSecret: { call: 'mutation { rotateWebhookSecret(id: "sub_missing") { secret } }', allowed: WEBHOOK_MANAGERS },
  pauseWebhookSubscription: { call: 'mutation { pauseWebhookSubscription(id: "sub_missing") { id } }', allowed: WEBHOOK_MANAGERS },
  resumeWebhookSubscription: { call: 'mutation { resumeWebhookSubscription(id: "sub_missing") { id } }', allowed: WEBHOOK_MANAGERS },
  deleteWebhookSubscription: { call: 'mutation { deleteWebhookSubscription(id: "sub_missing") }', allowed: WEBHOOK_MANAGERS },
  sendTestEvent: { call: 'mutation { sendTestEvent(subscriptionId: "sub_missing") { id } }', allowed: WEBHOOK_MANAGERS },
  replayEvents: { call: 'mutation { replayEvents(subscriptionId: "sub_missing", afterSequence: 0) }', allowed: WEBHOOK_MANAGERS },
  watchCards: { call: `mutation { watchCards(numbers: ["${V2023}"]) }`, allowed: PARTNERS },
  unwatchCards: { call: `mutation { unwatchCards(numbers: ["${V2023}"]) }`, allowed: PARTNERS },
};

describe("access control", () => {
  let hub: TestHub;
  const keys = {} as Record<Caller, string>;

  beforeAll(async () => {
    hub = await TestHub.start();
    keys.ADMIN = hub.key("ADMIN");
    keys.ISSUER = hub.key("ISSUER");
    keys.VIEWER = hub.key("VIEWER");
    keys.PARTNER = hub.partnerKey().secret;
    keys.PARTNER_NO_SCOPES = hub.partnerKey([]).secret;
    keys.PARTNER_ALL_SCOPES = hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE"]).secret;
  });
  afterAll(() => hub.close());

  it("has a rule and a matrix row for every query and mutation in the schema", () => {
    const schema = buildHubSchema();
    const operations = [...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())];
    expect(operations.filter((op) => !ACCESS_RULES[op])).toEqual([]);
    expect(operations.filter((op) => !MATRIX[op])).toEqual([]);
  });

  for (const [operation, { call, allowed }] of Object.entries(MATRIX)) {
    it(`${operation}: refuses callers without a key, allows ${allowed.join(", ")}, forbids the rest`, async () => {
      const anonymous = await hub.gql(null, call);
      expect(anonymous.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
      for (const caller of EVERYONE) {
        const answer = await hub.gql(keys[caller], call);
        const code = answer.errors?.[0]?.extensions.code;
        if (allowed.includes(caller)) expect([caller, code]).not.toEqual([caller, "FORBIDDEN"]);
        else expect([caller, code]).toEqual([caller, "FORBIDDEN"]);
        expect(code).not.toBe("UNAUTHENTICATED");
        expect(code).not.toBe("INTERNAL_SERVER_ERROR");
      }
    });
  }

  it("creates keys only with a subset of their role's scopes", async () => {
    const refused = await hub.gql(keys.ADMIN, "mutation { createApiKey(role: VIEWER, scopes: [EVENTS_ALL]) { secret } }");
    expect(refused.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const noPartner = await hub.gql(keys.ADMIN, "mutation { createApiKey(role: PARTNER) { secret } }");
    expect(noPartner.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const unknownPartner = await hub.gql(keys.ADMIN, 'mutation { createApiKey(role: PARTNER, partnerId: "prt_nobody") { secret } }');
    expect(unknownPartner.errors?.[0].extensions.code).toBe("NOT_FOUND");
    const partner = await hub.gql(keys.ADMIN, 'mutation { createPartner(name: "Rail Co", industry: RAIL, provinceCode: "31") { id province { name } adaptation { level declared } } }');
    expect(partner.data.createPartner).toMatchObject({ province: { name: "Shanghai" }, adaptation: { level: "NONE", declared: "NOT_STARTED" } });
    const created = await hub.gql(keys.ADMIN, `mutation { createApiKey(role: PARTNER, partnerId: "${partner.data.createPartner.id}", scopes: [CARDS_CHECK]) { secret apiKey { role scopes prefix partnerId revokedAt } } }`);
    const { secret, apiKey } = created.data.createApiKey;
    expect(apiKey).toMatchObject({ role: "PARTNER", scopes: ["CARDS_CHECK"], revokedAt: null });
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    expect((await hub.gql(secret, "{ me { name industry } }")).data.me).toEqual({ name: "Rail Co", industry: "RAIL" });
    const badProvince = await hub.gql(keys.ADMIN, 'mutation { createPartner(name: "X", industry: RAIL, provinceCode: "99") { id } }');
    expect(badProvince.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const blankName = await hub.gql(keys.ADMIN, 'mutation { createPartner(name: "  ", industry: RAIL) { id } }');
    expect(blankName.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("stores key secrets only as digests", () => {
    const { secret } = hub.services.apiKeys.create({ role: "VIEWER" });
    const rows = hub.services.db.$client.prepare("SELECT * FROM api_keys").all();
    expect(JSON.stringify(rows)).not.toContain(secret);
  });
});
