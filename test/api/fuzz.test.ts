/**
 * Property-based fuzzing of every string argument that reaches the card-number parser or the
 * database. Whatever is sent, the hub must answer below HTTP 500 with documented error codes only
 * (never INTERNAL_SERVER_ERROR), and the register must be intact afterwards.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

/** The closed set from /work/shared/api.graphql, minus INTERNAL_SERVER_ERROR, which fuzzing must never provoke. */
const CALLER_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "BAD_USER_INPUT",
  "INVALID_CARD_NUMBER",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "QUERY_TOO_COMPLEX",
]);

const RUNS = 50;
const UNLIMITED = "PARTNER=1000000,ISSUER=1000000,ADMIN=1000000,VIEWER=1000000";

/** A card issued before fuzzing; it must still check VALID afterwards. */
const SENTINEL = v2023(1);
/** Existing cards the state-changing mutations may hit (never the sentinel). */
const VICTIM_LOST = v2023(2);
const VICTIM_REVOKED = v2023(3);
const VICTIM_STATUS = v2023(4);
/** A well-formed number that is not on the register. */
const ABSENT = v2023(5);

const NASTY: string[] = [
  "",
  " ",
  "\t\r\n",
  "A".repeat(100_000),
  "9".repeat(50_000),
  "\u0000".repeat(5_000),
  "😀".repeat(10_000),
  "\u0000",
  "911124\u00001979041200",
  "abc\u0000def",
  "' OR 1=1 --",
  "' OR '1'='1",
  "'; DROP TABLE cards; --",
  '" OR ""="',
  "1; SELECT * FROM api_keys",
  "') UNION SELECT secret_digest FROM api_keys --",
  "%00",
  "%27%20OR%201%3D1",
  "%u0000",
  "\uD800",
  "\uDC00",
  "a\uD800b",
  "\uDFFF\uD800",
  "\uDBFF\uDFFF",
  "\u202E",
  "\u200F",
  "\u202Egnp.exe",
  "\u061C9111",
  "\u200B",
  "\uFEFF",
  "😀",
  "👨‍👩‍👧‍👦",
  "🏳️‍🌈",
  "e\u0301",
  "ı",
  "ß",
  "ﬀ",
  "Ⅻ",
  "９１１１２４１９７９０４１２",
  '{"a":1}',
  "[1,2,3]",
  '{"__proto__":{"admin":true}}',
  "null",
  "undefined",
  "true",
  '"',
  "\\",
  "\\u0000",
  "${jndi:ldap://x/a}",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "\r\n\r\nHTTP/1.1 200 OK",
  "__proto__",
  "constructor",
  "toString",
  "NaN",
  "Infinity",
  "-1",
  "1e309",
  "0x10",
  "9".repeat(18),
  "X".repeat(18),
  "seq:1",
  Buffer.from("seq:1").toString("base64url"),
  Buffer.from("seq:0").toString("base64url"),
  Buffer.from("seq:999999999999999").toString("base64url"),
  Buffer.from("seq:99999999999999999999").toString("base64url"),
  Buffer.from("seq:-1").toString("base64url"),
  Buffer.from("seq:1' OR 1=1").toString("base64url"),
  "999999999999999",
  "9999999999999999999999",
  "0",
  "-0",
  "1.5",
  ABSENT.toLowerCase(),
  `${ABSENT}\u0000`,
  `${ABSENT.slice(0, 9)}\u200B${ABSENT.slice(9)}`,
  `\u202E${ABSENT}`,
  "CAN110081080319",
  "can-1100-8108-0319",
];

const loneSurrogateUnit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const oneChar = fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), loneSurrogateUnit, fc.constantFrom(" ", "-", "\u200B", "\u0000", "'", "%"));

/** A well-formed number (not one the mutations may change) with a character slipped in. */
function near(base: string): fc.Arbitrary<string> {
  return fc.tuple(fc.integer({ min: 0, max: base.length }), oneChar).map(([i, c]) => base.slice(0, i) + c + base.slice(i));
}

/** Anything: random code points, graphemes, lone surrogates, hand-picked strings, JSON text, near-valid numbers. */
function fuzzString(base = ABSENT): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: loneSurrogateUnit, maxLength: 20 }) },
    { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 1, arbitrary: fc.json() },
    { weight: 2, arbitrary: near(base) },
  );
}

const anyString = fuzzString();
/** Reads may use the sentinel, as typed in odd ways (looking it up changes nothing); mutations never see it. */
const readNumber = fc.oneof(
  fuzzString(SENTINEL),
  fc.constantFrom(SENTINEL, SENTINEL.toLowerCase(), `${SENTINEL}\u0000`, `${SENTINEL.slice(0, 9)}\u200B${SENTINEL.slice(9)}`, `\u202E${SENTINEL}`, ` ${SENTINEL.slice(0, 6)}-${SENTINEL.slice(6)} `),
);

function describeInput(input: unknown): string {
  const text = JSON.stringify(input, (_k, v) => (typeof v === "string" && v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v));
  return text ?? String(input);
}

/** HTTP below 500; every error documented, never internal, never leaking SQL or a stack trace. */
function expectSane(answer: GraphQLAnswer, input: unknown): void {
  const where = `input ${describeInput(input)} answered ${answer.status} ${describeInput(answer.errors)}`;
  expect(answer.status, where).toBeLessThan(500);
  for (const error of answer.errors ?? []) {
    expect(CALLER_CODES.has(error.extensions?.code), where).toBe(true);
    expect(error.extensions, where).not.toHaveProperty("stacktrace");
    expect(error.message, where).not.toMatch(/SQLITE_|sqlite3|\n\s+at /);
  }
  if (!answer.errors) expect(answer.data, where).toBeTruthy();
}

describe("fuzzing string arguments over HTTP", () => {
  let hub: TestHub;
  let admin: string;
  let issuer: string;
  let partner: string;
  let webhookPartner: string;
  let subscriptionId: string;
  let cardsBefore: number;
  let keysBefore: number;
  const issued = new Set<string>();
  let nextSequence = 100;

  const count = (table: string): number => (hub.services.db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  async function fuzz<T>(arbitrary: fc.Arbitrary<T>, call: (value: T) => Promise<GraphQLAnswer>, after?: (answer: GraphQLAnswer, value: T) => void): Promise<void> {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (value) => {
        const answer = await call(value);
        expectSane(answer, value);
        after?.(answer, value);
      }),
      { numRuns: RUNS },
    );
  }

  beforeAll(async () => {
    hub = await TestHub.start({
      RATE_LIMIT_CHECKS: UNLIMITED,
      RATE_LIMIT_VERIFICATIONS: UNLIMITED,
      VERIFY_SLOW_AFTER: "999",
      VERIFY_BLOCK_AFTER: "1000",
    });
    admin = hub.key("ADMIN");
    issuer = hub.key("ISSUER");
    partner = hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY", "WEBHOOKS_MANAGE"]).secret;
    webhookPartner = hub.partnerKey(["CARDS_CHECK", "WEBHOOKS_MANAGE"]).secret;
    await issue(hub, issuer, SENTINEL, { englishName: "MARTIN, CLAIRE", chineseName: "马丁" });
    for (const number of [VICTIM_LOST, VICTIM_REVOKED, VICTIM_STATUS]) await issue(hub, issuer, number);
    const created = await hub.gql(partner, 'mutation { createWebhookSubscription(url: "http://127.0.0.1:9/hook", eventTypes: [CARD_REVOKED]) { subscription { id } } }');
    expect(created.errors).toBeUndefined();
    subscriptionId = created.data.createWebhookSubscription.subscription.id;
    cardsBefore = count("cards");
    keysBefore = count("api_keys");
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("parseCardNumber(number)", async () => {
    await fuzz(readNumber, (number) =>
      hub.gql(partner, "query($n: String!) { parseCardNumber(number: $n) { input normalized valid version nationality { alpha3 name } province { code name } birthDate sex errors { code message } } }", { n: number }),
    (answer) => {
      // Parsing never fails: problems are listed in parse errors, not raised.
      expect(answer.errors).toBeUndefined();
    });
  });

  it("checkCard(number)", async () => {
    await fuzz(readNumber, (number) =>
      hub.gql(partner, "query($n: String!) { checkCard(number: $n) { input number result recognized card { number state } parse { valid errors { code } } } }", { n: number }),
    );
  });

  it("checkCards(numbers)", async () => {
    const numbers = fc.oneof(
      { weight: 5, arbitrary: fc.array(readNumber, { maxLength: 8 }) },
      { weight: 1, arbitrary: fc.constant(Array.from({ length: 1001 }, (_, i) => String(i))) },
    );
    await fuzz(numbers, (list) =>
      hub.gql(partner, "query($n: [String!]!) { checkCards(numbers: $n) { input number result parse { valid errors { code } } } }", { n: list }),
    (answer, list) => {
      if (!answer.errors) expect(answer.data.checkCards).toHaveLength(list.length);
    });
  });

  it("verifyHolder(input.number, englishName, chineseName, birthDate)", async () => {
    const input = fc.record(
      {
        number: readNumber,
        englishName: fc.option(anyString),
        chineseName: fc.option(anyString),
        birthDate: fc.option(fc.oneof(anyString, fc.constant("1979-04-12"))),
      },
      { requiredKeys: ["number"] },
    );
    await fuzz(input, (value) => hub.gql(partner, "query($i: VerifyHolderInput!) { verifyHolder(input: $i) { result auditId check { result } } }", { i: value }));
  });

  it("issueCard(input.number, previousNumber, englishName, chineseName, validFrom, validUntil)", async () => {
    const date = fc.oneof({ weight: 1, arbitrary: anyString }, { weight: 2, arbitrary: fc.constant("valid") });
    const input = fc.record({
      fresh: fc.boolean(),
      number: anyString,
      previousNumber: fc.option(fc.oneof(anyString, fc.constant(SENTINEL))),
      englishName: fc.oneof(anyString, fc.constant("DOE, JANE")),
      chineseName: fc.option(anyString),
      validFrom: date,
      validUntil: date,
    });
    await fuzz(
      input,
      (value) => {
        const sequence = nextSequence++;
        const number = value.fresh ? v2023(100 + (sequence % 900), sequence < 1000 ? "1980-01-01" : "1981-01-01") : value.number;
        return hub.gql(issuer, "mutation($i: IssueCardInput!) { issueCard(input: $i) { number state } }", {
          i: {
            number,
            previousNumber: value.previousNumber,
            englishName: value.englishName,
            chineseName: value.chineseName,
            validFrom: value.validFrom === "valid" ? "2024-01-01" : value.validFrom,
            validUntil: value.validUntil === "valid" ? "2033-12-31" : value.validUntil,
          },
        });
      },
      (answer) => {
        if (answer.data?.issueCard) issued.add(answer.data.issueCard.number);
      },
    );
  });

  it("reportCardLost(number)", async () => {
    await fuzz(fc.oneof(anyString, fc.constant(VICTIM_LOST)), (number) =>
      hub.gql(issuer, "mutation($n: String!) { reportCardLost(number: $n) { number state } }", { n: number }),
    );
  });

  it("revokeCard(number, reason)", async () => {
    const args = fc.record({ number: fc.oneof(anyString, fc.constant(VICTIM_REVOKED)), reason: anyString });
    await fuzz(args, ({ number, reason }) =>
      hub.gql(issuer, "mutation($n: String!, $r: String!) { revokeCard(number: $n, reason: $r) { number state } }", { n: number, r: reason }),
    );
  });

  it("setHolderStatus(number, reason)", async () => {
    const args = fc.record({
      number: fc.oneof(anyString, fc.constant(VICTIM_STATUS)),
      status: fc.constantFrom("ACTIVE", "CANCELLED"),
      reason: fc.option(anyString),
    });
    await fuzz(args, ({ number, status, reason }) =>
      hub.gql(issuer, "mutation($n: String!, $s: HolderStatus!, $r: String) { setHolderStatus(number: $n, status: $s, reason: $r) { number holderStatus } }", {
        n: number,
        s: status,
        r: reason,
      }),
    );
  });

  it("watchCards(numbers)", async () => {
    await fuzz(fc.array(readNumber, { maxLength: 6 }), (numbers) =>
      hub.gql(partner, "mutation($n: [String!]!) { watchCards(numbers: $n) }", { n: numbers }),
    );
  });

  it("createPartner(name, provinceCode)", async () => {
    const args = fc.record({ name: anyString, provinceCode: fc.option(fc.oneof(anyString, fc.constant("11"))) });
    await fuzz(args, ({ name, provinceCode }) =>
      hub.gql(admin, "mutation($n: String!, $p: String) { createPartner(name: $n, industry: RAIL, provinceCode: $p) { id name province { code } } }", {
        n: name,
        p: provinceCode,
      }),
    );
  });

  it("createApiKey(partnerId)", async () => {
    const args = fc.record({ partnerId: fc.option(anyString), role: fc.constantFrom("PARTNER", "VIEWER", "ISSUER", "ADMIN") });
    await fuzz(
      args.filter(({ partnerId, role }) => partnerId !== null || role === "PARTNER"),
      ({ partnerId, role }) => hub.gql(admin, `mutation($p: ID) { createApiKey(role: ${role}, partnerId: $p) { apiKey { id } secret } }`, { p: partnerId }),
      (answer) => expect(answer.data?.createApiKey ?? null, "no fuzzed partner id names a real partner").toBeNull(),
    );
  });

  it("revokeApiKey(id)", async () => {
    await fuzz(anyString, (id) => hub.gql(admin, "mutation($i: ID!) { revokeApiKey(id: $i) { id revokedAt } }", { i: id }),
      (answer) => expect(answer.data?.revokeApiKey ?? null).toBeNull());
  });

  it("createWebhookSubscription(url)", async () => {
    const url = fc.oneof(
      anyString,
      anyString.map((s) => `http://127.0.0.1:9/${s}`),
      anyString.map((s) => `https://${s}.invalid/hook`),
      anyString.map((s) => `http://[${s}]/`),
      anyString.map((s) => `https://example.invalid/?q=${s}#${s}`),
      fc.constantFrom("http://169.254.169.254/latest", "http://[::ffff:127.0.0.1]:9/", "file:///etc/passwd", "javascript:alert(1)", `http://127.0.0.1:9/${"a".repeat(3000)}`),
    );
    await fuzz(url, (value) =>
      hub.gql(webhookPartner, "mutation($u: String!) { createWebhookSubscription(url: $u, eventTypes: [CARD_ISSUED]) { subscription { id url } secret } }", { u: value }),
    );
  });

  it("webhookDeliveries(subscriptionId, after)", async () => {
    const args = fc.record({
      id: fc.oneof(anyString, fc.constant("SUB")),
      after: fc.option(fc.oneof(anyString, fc.constantFrom("1", "0", "999999999999999"))),
    });
    await fuzz(args, ({ id, after }) =>
      hub.gql(partner, "query($s: ID!, $a: String) { webhookDeliveries(subscriptionId: $s, after: $a) { id status } }", {
        s: id === "SUB" ? subscriptionId : id,
        a: after,
      }),
    );
  });

  it("changes(after)", async () => {
    const cursor = fc.oneof(anyString, anyString.map((s) => Buffer.from(`seq:${s}`).toString("base64url")), anyString.map((s) => Buffer.from(s).toString("base64")));
    await fuzz(cursor, (after) =>
      hub.gql(admin, "query($a: String) { changes(after: $a, first: 5) { edges { cursor node { sequence type } } pageInfo { endCursor hasNextPage } } }", { a: after }),
    );
  });

  it("variables of the wrong type (any JSON value) are refused as BAD_USER_INPUT with HTTP 400", async () => {
    const value = fc.jsonValue().filter((v) => typeof v !== "string");
    await fuzz(value, (n) => hub.gql(partner, "query($n: String!) { checkCard(number: $n) { result } }", { n }), (answer) => {
      expect(answer.status).toBe(400);
      expect(answer.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    });
    const input = fc.record({ number: fc.jsonValue(), englishName: fc.jsonValue(), birthDate: fc.jsonValue() }, { requiredKeys: [] });
    await fuzz(input, (i) => hub.gql(partner, "query($i: VerifyHolderInput!) { verifyHolder(input: $i) { result } }", { i }));
    await fuzz(fc.jsonValue(), (after) => hub.gql(admin, "query($a: String, $f: Int) { changes(after: $a, first: $f) { pageInfo { hasNextPage } } }", { a: after, f: after }));
  });

  it("leaves the register intact", async () => {
    const check = await hub.gql(partner, "query($n: String!) { checkCard(number: $n) { result recognized card { number state holderStatus } } }", { n: SENTINEL });
    expect(check.errors).toBeUndefined();
    expect(check.data.checkCard).toMatchObject({ result: "VALID", recognized: true, card: { number: SENTINEL, state: "VALID", holderStatus: "ACTIVE" } });
    const verify = await hub.gql(partner, "query($n: String!) { verifyHolder(input: { number: $n, englishName: \"Claire Martin\", chineseName: \"马丁\" }) { result } }", { n: SENTINEL });
    expect(verify.data?.verifyHolder.result).toBe("MATCH");

    expect(count("cards")).toBe(cardsBefore + issued.size);
    expect(count("api_keys")).toBe(keysBefore);
    const tables = (hub.services.db.$client.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["cards", "holders", "events", "partners", "api_keys", "watched_numbers", "webhook_subscriptions", "webhook_deliveries", "audit_log"]));
    expect(hub.services.db.$client.pragma("integrity_check", { simple: true })).toBe("ok");
    // Every successful issue is on the register (a fuzzed mutation may have changed its state since).
    const batch = await hub.gql(issuer, "query($n: [String!]!) { checkCards(numbers: $n) { number result } }", { n: [...issued] });
    expect(batch.errors).toBeUndefined();
    for (const check of batch.data.checkCards as { number: string; result: string }[]) expect(["NOT_FOUND", "MALFORMED"]).not.toContain(check.result);
  });
});
