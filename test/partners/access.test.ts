import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHubSchema } from "../../src/api/schema.ts";
import { ACCESS_RULES } from "../../src/partners/access-rules.ts";
import { TestHub } from "../helpers/temp-hub.ts";

/** Every role, with its default scopes and with none, and a partner key per single scope. */
const CALLERS = {
  ADMIN: { role: "ADMIN" },
  ADMIN_NO_SCOPES: { role: "ADMIN", scopes: [] },
  ISSUER: { role: "ISSUER" },
  ISSUER_NO_SCOPES: { role: "ISSUER", scopes: [] },
  VIEWER: { role: "VIEWER" },
  VIEWER_NO_SCOPES: { role: "VIEWER", scopes: [] },
  PARTNER: { role: "PARTNER" },
  PARTNER_NO_SCOPES: { role: "PARTNER", scopes: [] },
  PARTNER_CARDS_CHECK: { role: "PARTNER", scopes: ["CARDS_CHECK"] },
  PARTNER_HOLDERS_VERIFY: { role: "PARTNER", scopes: ["HOLDERS_VERIFY"] },
  PARTNER_LINEAGE_READ: { role: "PARTNER", scopes: ["LINEAGE_READ"] },
  PARTNER_EVENTS_ALL: { role: "PARTNER", scopes: ["EVENTS_ALL"] },
  PARTNER_WEBHOOKS_MANAGE: { role: "PARTNER", scopes: ["WEBHOOKS_MANAGE"] },
  PARTNER_ALL_SCOPES: { role: "PARTNER", scopes: ["CARDS_CHECK", "HOLDERS_VERIFY", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE"] },
} as const;
type Caller = keyof typeof CALLERS;
const EVERYONE = Object.keys(CALLERS) as Caller[];
const V2023 = "911124198108030024";
const PARTNERS = EVERYONE.filter((c) => c.startsWith("PARTNER"));
const ADMINS: Caller[] = ["ADMIN", "ADMIN_NO_SCOPES"];
const WEBHOOK_MANAGERS: Caller[] = ["PARTNER", "PARTNER_WEBHOOKS_MANAGE", "PARTNER_ALL_SCOPES"];
const CHECKERS: Caller[] = ["ADMIN", "ADMIN_NO_SCOPES", "ISSUER", "ISSUER_NO_SCOPES", "VIEWER", "PARTNER", "PARTNER_CARDS_CHECK", "PARTNER_ALL_SCOPES"];
/** Watching is checking by another name: PARTNER keys with CARDS_CHECK. */
const WATCHERS: Caller[] = ["PARTNER", "PARTNER_CARDS_CHECK", "PARTNER_ALL_SCOPES"];
const DASHBOARD: Caller[] = ["ADMIN", "ADMIN_NO_SCOPES", "VIEWER", "VIEWER_NO_SCOPES"];
const ISSUERS: Caller[] = ["ISSUER", "ISSUER_NO_SCOPES"];

/** The expected access matrix, written out by hand: who may call what. */
const MATRIX: Record<string, { call: string; allowed: Caller[] }> = {
  parseCardNumber: { call: `{ parseCardNumber(number: "${V2023}") { valid } }`, allowed: EVERYONE },
  checkCard: { call: `{ checkCard(number: "${V2023}") { result } }`, allowed: CHECKERS },
  checkCards: { call: `{ checkCards(numbers: ["${V2023}"]) { result } }`, allowed: CHECKERS },
  verifyHolder: {
    call: `{ verifyHolder(input: { number: "${V2023}", englishName: "A B" }) { result auditId } }`,
    allowed: ["ADMIN", "PARTNER", "PARTNER_HOLDERS_VERIFY", "PARTNER_ALL_SCOPES"],
  },
  changes: { call: "{ changes { pageInfo { hasNextPage } } }", allowed: [...ADMINS, ...ISSUERS, ...PARTNERS] },
  me: { call: "{ me { id } }", allowed: EVERYONE },
  partners: { call: "{ partners { id } }", allowed: DASHBOARD },
  issueCard: {
    call: `mutation { issueCard(input: { number: "${V2023}", validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "A B" }) { number } }`,
    allowed: ISSUERS,
  },
  reportCardLost: { call: `mutation { reportCardLost(number: "${V2023}") { state } }`, allowed: ISSUERS },
  revokeCard: { call: `mutation { revokeCard(number: "${V2023}", reason: "test") { state } }`, allowed: ISSUERS },
  setHolderStatus: { call: `mutation { setHolderStatus(number: "${V2023}", status: ACTIVE) { state } }`, allowed: ISSUERS },
  createPartner: { call: 'mutation { createPartner(name: "X", industry: RAIL) { id } }', allowed: ADMINS },
  createApiKey: { call: "mutation { createApiKey(role: VIEWER) { secret } }", allowed: ADMINS },
  revokeApiKey: { call: 'mutation { revokeApiKey(id: "key_missing") { id } }', allowed: ADMINS },
  rolloutCoverage: { call: "{ rolloutCoverage(groupBy: INDUSTRY) { key } }", allowed: DASHBOARD },
  migrationProgress: { call: "{ migrationProgress(groupBy: TOTAL) { key } }", allowed: DASHBOARD },
  migrationTimeline: { call: "{ migrationTimeline(weeks: 4) { periodStart } }", allowed: DASHBOARD },
  deliveryHealth: { call: "{ deliveryHealth { subscriptionId } }", allowed: DASHBOARD },
  conformanceRun: { call: '{ conformanceRun(id: "run_missing") { id } }', allowed: DASHBOARD },
  runConformanceProbe: { call: 'mutation { runConformanceProbe(partnerId: "prt_missing") { id } }', allowed: ADMINS },
  declareAdaptation: { call: "mutation { declareAdaptation(state: IN_PROGRESS) { id } }", allowed: PARTNERS },
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
  watchCards: { call: `mutation { watchCards(numbers: ["${V2023}"]) }`, allowed: WATCHERS },
  unwatchCards: { call: `mutation { unwatchCards(numbers: ["${V2023}"]) }`, allowed: WATCHERS },
};

describe("access control", () => {
  let hub: TestHub;
  const keys = {} as Record<Caller, string>;

  beforeAll(async () => {
    hub = await TestHub.start();
    for (const caller of EVERYONE) {
      const spec: { role: string; scopes?: readonly string[] } = CALLERS[caller];
      const scopes = spec.scopes ? [...spec.scopes] : undefined;
      keys[caller] = spec.role === "PARTNER" ? hub.partnerKey(scopes).secret : hub.key(spec.role as "ADMIN", { scopes });
    }
  });
  afterAll(() => hub.close());

  it("has a rule and a matrix row for every query and mutation in the schema", () => {
    const schema = buildHubSchema();
    const operations = [...Object.keys(schema.getQueryType()!.getFields()), ...Object.keys(schema.getMutationType()!.getFields())];
    expect(operations.filter((op) => !ACCESS_RULES[op])).toEqual([]);
    expect(operations.filter((op) => !MATRIX[op])).toEqual([]);
  });

  for (const [operation, { call, allowed }] of Object.entries(MATRIX)) {
    it(`${operation}: refuses callers without a key, allows exactly ${allowed.length} of ${EVERYONE.length} callers`, async () => {
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
