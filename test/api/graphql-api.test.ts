import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock, TestHub } from "../helpers/temp-hub.ts";

const V2017 = "CAN110081080319";
const V2023 = "911124198108030024";
const OTHER = "932682198501010017";

const ISSUE = `mutation Issue($input: IssueCardInput!) {
  issueCard(input: $input) { number issueCount version state validFrom validUntil holderStatus previousNumber currentNumber }
}`;
const CHECK = `query Check($number: String!, $issueCount: Int) {
  checkCard(number: $number, issueCount: $issueCount) {
    input number issueCount latestIssueCount result recognized checkedAt
    card { number issueCount state previousNumber currentNumber }
    parse { valid version normalized nationality { alpha3 numeric name } province { code name } birthDate sex errors { code message } }
  }
}`;

describe("GraphQL over HTTP: a full round trip", () => {
  let hub: TestHub;
  let issuer: string;
  let partner: string;
  let admin: string;
  const clock = new TestClock(new Date("2025-06-15T04:00:00Z"));

  beforeAll(async () => {
    hub = await TestHub.start({}, clock.now);
    issuer = hub.key("ISSUER");
    admin = hub.key("ADMIN");
    partner = hub.partnerKey().secret;
  });
  afterAll(() => hub.close());

  it("issues a V2017 card, switches it to V2023, and partners see both states", async () => {
    const first = await hub.gql(issuer, ISSUE, {
      input: { number: V2017, validFrom: "2016-05-10", validUntil: "2026-05-09", englishName: "Martin, Claire", chineseName: "马丁" },
    });
    expect(first.errors).toBeUndefined();
    expect(first.data.issueCard).toMatchObject({ number: V2017, version: "V2017", state: "VALID", issueCount: 0 });

    const switched = await hub.gql(issuer, ISSUE, {
      input: { number: V2023, previousNumber: "can-1100-8108-0319", validFrom: "2024-03-01", validUntil: "2034-02-28", englishName: "CLAIRE MARTIN" },
    });
    expect(switched.errors).toBeUndefined();
    expect(switched.data.issueCard).toMatchObject({ number: V2023, version: "V2023", previousNumber: V2017 });

    const old = await hub.gql(partner, CHECK, { number: V2017 });
    expect(old.data.checkCard).toMatchObject({ result: "SUPERSEDED", recognized: false, card: { previousNumber: null, currentNumber: null } });
    const fresh = await hub.gql(partner, CHECK, { number: "９１１１２４ １９８１０８０３ ００２４" });
    expect(fresh.data.checkCard).toMatchObject({
      number: V2023,
      result: "VALID",
      recognized: true,
      parse: { valid: true, version: "V2023", nationality: { alpha3: "CAN", numeric: "124" }, province: { code: "11" }, birthDate: "1981-08-03", sex: "FEMALE" },
    });
  });

  it("shows lineage only to keys with LINEAGE_READ", async () => {
    const answer = await hub.gql(issuer, CHECK, { number: V2017 });
    expect(answer.data.checkCard.card).toMatchObject({ currentNumber: V2023 });
    const lineagePartner = hub.partnerKey(["CARDS_CHECK", "LINEAGE_READ"]).secret;
    const fresh = await hub.gql(lineagePartner, CHECK, { number: V2023 });
    expect(fresh.data.checkCard.card).toMatchObject({ previousNumber: V2017, currentNumber: null });
  });

  it("repeats an identical issue as a no-op and refuses a conflicting one with CONFLICT", async () => {
    const input = { number: OTHER, validFrom: "2023-12-15", validUntil: "2033-12-14", englishName: "AL-SAUD, FAHAD" };
    expect((await hub.gql(issuer, ISSUE, { input })).errors).toBeUndefined();
    const events = (await hub.gql(admin, "{ changes(first: 1000) { edges { node { sequence } } } }")).data.changes.edges.length;
    expect((await hub.gql(issuer, ISSUE, { input })).errors).toBeUndefined();
    expect((await hub.gql(admin, "{ changes(first: 1000) { edges { node { sequence } } } }")).data.changes.edges).toHaveLength(events);
    const conflict = await hub.gql(issuer, ISSUE, { input: { ...input, validUntil: "2033-12-13" } });
    expect(conflict.errors?.[0].extensions.code).toBe("CONFLICT");
  });

  it("fails the lost instance while its replacement passes", async () => {
    const lost = await hub.gql(issuer, `mutation { reportCardLost(number: "${OTHER}") { state issueCount } }`);
    expect(lost.data.reportCardLost).toEqual({ state: "REPORTED_LOST", issueCount: 0 });
    const input = { number: OTHER, issueCount: 1, validFrom: "2024-06-01", validUntil: "2034-05-31", englishName: "FAHAD AL-SAUD" };
    expect((await hub.gql(issuer, ISSUE, { input })).errors).toBeUndefined();
    const oldChip = await hub.gql(partner, CHECK, { number: OTHER, issueCount: 0 });
    expect(oldChip.data.checkCard).toMatchObject({ result: "REPORTED_LOST", issueCount: 0, latestIssueCount: 1 });
    const newChip = await hub.gql(partner, CHECK, { number: OTHER, issueCount: 1 });
    expect(newChip.data.checkCard).toMatchObject({ result: "VALID", recognized: true, issueCount: 1 });
    const unknownChip = await hub.gql(partner, CHECK, { number: OTHER, issueCount: 7 });
    expect(unknownChip.data.checkCard).toMatchObject({ result: "NOT_FOUND", card: null, latestIssueCount: 1 });
  });

  it("revokes cards and changes holder status, and the change feed pages through every event once", async () => {
    const revoked = await hub.gql(issuer, `mutation { revokeCard(number: "${OTHER}", reason: "fraud") { state } }`);
    expect(revoked.data.revokeCard.state).toBe("REVOKED");
    const status = await hub.gql(issuer, `mutation { setHolderStatus(number: "${V2017}", status: CANCELLED) { holderStatus } }`);
    expect(status.data.setHolderStatus.holderStatus).toBe("CANCELLED");
    expect((await hub.gql(partner, CHECK, { number: V2023 })).data.checkCard.result).toBe("HOLDER_INACTIVE");

    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const answer: any = await hub.gql(issuer, "query($after: String) { changes(first: 2, after: $after) { edges { cursor node { id sequence type cardNumber } } pageInfo { endCursor hasNextPage } } }", { after });
      seen.push(...answer.data.changes.edges.map((e: any) => e.node.sequence));
      after = answer.data.changes.pageInfo.endCursor;
      if (!answer.data.changes.pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0] + i));
    const types = await hub.gql(issuer, "{ changes(types: [CARD_REVOKED, HOLDER_STATUS_CHANGED]) { edges { node { type cardNumber data } } } }");
    expect(types.data.changes.edges.map((e: any) => [e.node.type, e.node.cardNumber])).toEqual([
      ["CARD_REVOKED", OTHER],
      ["HOLDER_STATUS_CHANGED", V2023],
    ]);
  });

  it("answers a batch in input order, one result per number, without failing on bad items", async () => {
    const numbers = [V2023, "not a number", OTHER, "110101199003074258", "", V2023];
    const answer = await hub.gql(partner, "query($n: [String!]!) { checkCards(numbers: $n) { input result parse { errors { code } } } }", { n: numbers });
    expect(answer.data.checkCards.map((c: any) => c.input)).toEqual(numbers);
    expect(answer.data.checkCards.map((c: any) => c.result)).toEqual(["HOLDER_INACTIVE", "MALFORMED", "REVOKED", "MALFORMED", "MALFORMED", "HOLDER_INACTIVE"]);
    expect(answer.data.checkCards[3].parse.errors[0].code).toBe("NOT_FOREIGNER_NUMBER");
    expect(answer.data.checkCards[4].parse.errors[0].code).toBe("EMPTY");
    const tooMany = await hub.gql(partner, "query($n: [String!]!) { checkCards(numbers: $n) { result } }", { n: Array(1001).fill(V2023) });
    expect(tooMany.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const limit = await hub.gql(partner, "query($n: [String!]!) { checkCards(numbers: $n) { result } }", { n: Array(1000).fill(V2023) });
    expect(limit.data.checkCards).toHaveLength(1000);
  });
});

describe("GraphQL over HTTP: errors", () => {
  let hub: TestHub;
  let issuer: string;
  beforeAll(async () => {
    hub = await TestHub.start();
    issuer = hub.key("ISSUER");
  });
  afterAll(() => hub.close());

  it("gives INVALID_CARD_NUMBER with the parser's error list", async () => {
    const answer = await hub.gql(issuer, ISSUE, {
      input: { number: "911124198108030025", validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "A B" },
    });
    expect(answer.errors?.[0].extensions).toMatchObject({ code: "INVALID_CARD_NUMBER", errors: [{ code: "BAD_CHECK_DIGIT" }] });
  });

  it("gives BAD_USER_INPUT for malformed dates, wrong argument types and broken queries", async () => {
    const badDate = await hub.gql(issuer, ISSUE, { input: { number: V2023, validFrom: "2024-02-30", validUntil: "2030-01-01", englishName: "A" } });
    expect(badDate.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const literal = await hub.gql(issuer, `mutation { issueCard(input: { number: "${V2023}", validFrom: "yesterday", validUntil: "2030-01-01", englishName: "A" }) { number } }`);
    expect(literal.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await hub.gql(issuer, "{ checkCard(number: 5) { result } }")).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await hub.gql(issuer, "{ checkCard(")).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await hub.gql(issuer, "{ nope }")).errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("gives NOT_FOUND for a card that is not on the register", async () => {
    const answer = await hub.gql(issuer, `mutation { reportCardLost(number: "${V2023}") { state } }`);
    expect(answer.errors?.[0].extensions.code).toBe("NOT_FOUND");
  });

  it("refuses missing, malformed, unknown and revoked keys with UNAUTHENTICATED", async () => {
    const query = `{ parseCardNumber(number: "${V2023}") { valid } }`;
    expect((await hub.gql(null, query)).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    expect((await hub.gql("fpr_not-a-real-key", query)).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    const created = hub.services.apiKeys.create({ role: "VIEWER" });
    expect((await hub.gql(created.secret, query)).data.parseCardNumber.valid).toBe(true);
    const admin = hub.key("ADMIN");
    const revoked = await hub.gql(admin, `mutation { revokeApiKey(id: "${created.apiKey.id}") { revokedAt lastUsedAt } }`);
    expect(revoked.data.revokeApiKey.revokedAt).toBeTruthy();
    expect(revoked.data.revokeApiKey.lastUsedAt).toBeTruthy(); // the key was used just above
    expect((await hub.gql(created.secret, query)).errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
    const raw = await fetch(`${hub.api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic abc" },
      body: JSON.stringify({ query }),
    });
    expect(((await raw.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("masks internal errors: no stack trace or SQL, a request id to quote", async () => {
    const broken = await TestHub.start();
    const key = broken.key("ISSUER");
    broken.services.db.$client.exec("DROP TABLE events");
    const answer = await broken.gql(key, ISSUE, { input: { number: V2023, validFrom: "2024-01-01", validUntil: "2030-01-01", englishName: "A B" } });
    await broken.close();
    expect(answer.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.errors?.[0].extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId: answer.headers.get("x-request-id") });
    expect(JSON.stringify(answer)).not.toMatch(/events|sqlite|SQL|at .*\.ts/i);
  });

  it("answers bad HTTP requests with JSON errors, and serves health endpoints", async () => {
    const authorization = `Bearer ${hub.key("VIEWER")}`;
    const notJson = await fetch(`${hub.api.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization }, body: "{bad" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const huge = await fetch(`${hub.api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify({ query: "x".repeat(1_100_000) }),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as any).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const missing = await fetch(`${hub.api.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).errors[0].extensions.code).toBe("NOT_FOUND");
    expect(await (await fetch(`${hub.api.url}/healthz`)).json() as unknown).toEqual({ status: "ok" });
    const ready = await fetch(`${hub.api.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
