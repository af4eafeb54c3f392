/**
 * Query limits (depth, aliases, complexity → QUERY_TOO_COMPLEX) and the HTTP edge: batching,
 * body size, invalid JSON, introspection by mode, masked internal errors carrying the request id.
 */
import { buildSchema, getOperationAST, GraphQLError, parse, type GraphQLSchema } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkQueryLimits, QUERY_LIMITS } from "../../src/api/query-limits.ts";
import { MAX_BODY_BYTES } from "../../src/http/respond.ts";
import { TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";
import { v2023 } from "../helpers/webhook-fixtures.ts";

/** Runs the limits on a query against a schema; returns the QUERY_TOO_COMPLEX message, or null when allowed. */
function limitsOf(schema: GraphQLSchema, query: string, variables: Record<string, unknown> = {}): string | null {
  const document = parse(query);
  const operation = getOperationAST(document);
  if (!operation) throw new Error("no operation");
  try {
    checkQueryLimits(schema, document, operation, variables);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe("QUERY_TOO_COMPLEX");
    return (error as GraphQLError).message;
  }
}

/** `{ node { child { child … { name } } } }` with `levels` selection sets in all. */
function nested(levels: number, field = "child"): string {
  let inner = "name";
  for (let i = 1; i < levels - 1; i += 1) inner = `${field} { ${inner} }`;
  return `{ node { ${inner} } }`;
}

describe("checkQueryLimits on a synthetic self-nesting schema", () => {
  const schema = buildSchema(`
    type Node { name: String child: Node children(first: Int): [Node!]! }
    type Query { node: Node nodes(first: Int): [Node!]! }
  `);

  it("allows the depth limit and refuses one level more", () => {
    expect(QUERY_LIMITS.maxDepth).toBe(8);
    expect(limitsOf(schema, nested(8))).toBeNull();
    expect(limitsOf(schema, nested(9))).toMatch(/nested 9 levels deep; the limit is 8/);
  });

  it("counts depth through inline fragments and named fragments", () => {
    // Inline fragments add no level of their own.
    const inline = `{ node { ... on Node { child { ... on Node { child { child { child { child { child { child { name } } } } } } } } } } }`;
    expect(limitsOf(schema, inline)).toMatch(/nested 9 levels/);
    // A fragment's selections count where it is spread, and may hide most of the depth.
    const spread = `
      query { node { child { ...Deep } } }
      fragment Deep on Node { child { child { child { child { child { child { name } } } } } } }`;
    expect(limitsOf(schema, spread)).toMatch(/nested 9 levels/);
    const chained = `
      query { node { ...A } }
      fragment A on Node { child { child { ...B } } }
      fragment B on Node { child { child { ...C } } }
      fragment C on Node { child { child { child { name } } } }`;
    expect(limitsOf(schema, chained)).toMatch(/nested 9 levels/);
    const shallow = `
      query { node { ...A } }
      fragment A on Node { child { child { ...B } } }
      fragment B on Node { child { name } }`;
    expect(limitsOf(schema, shallow)).toBeNull();
  });

  it("counts aliases, inside fragments too", () => {
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: name`).join(" ");
    expect(limitsOf(schema, `{ node { ${aliases(20)} } }`)).toBeNull();
    expect(limitsOf(schema, `{ node { ${aliases(21)} } }`)).toMatch(/21 aliases; the limit is 20/);
    const viaFragment = `query { node { ...F child { ...F } } } fragment F on Node { ${aliases(11)} }`;
    expect(limitsOf(schema, viaFragment)).toMatch(/22 aliases/);
  });

  it("multiplies list arguments into the complexity, from literals and variables", () => {
    // first: 1000 × (2 fields + 1) children under first: 10 × … stays small; a big product does not.
    expect(limitsOf(schema, "{ nodes(first: 100) { name child { name } } }")).toBeNull();
    expect(limitsOf(schema, "{ nodes(first: 1000) { children(first: 100) { name } } }")).toMatch(/complexity \d+ exceeds 50000/);
    expect(limitsOf(schema, "query($f: Int) { nodes(first: $f) { children(first: $f) { name } } }", { f: 300 })).toMatch(/exceeds/);
    expect(limitsOf(schema, "query($f: Int) { nodes(first: $f) { children(first: $f) { name } } }", { f: 100 })).toBeNull();
  });

  it("judges one parsed operation again for each shape of its variables (the measure is kept per operation)", () => {
    const document = parse("query($f: Int, $s: String) { nodes(first: $f) { children(first: $f) { name } } node { name } }");
    const operation = getOperationAST(document)!;
    const judge = (variables: Record<string, unknown>) => {
      try {
        checkQueryLimits(schema, document, operation, variables);
        return "allowed";
      } catch (error) {
        return (error as GraphQLError).extensions.code;
      }
    };
    expect(judge({ f: 100, s: "a" })).toBe("allowed");
    expect(judge({ f: 300, s: "a" })).toBe("QUERY_TOO_COMPLEX");
    expect(judge({ f: 100, s: "another string" })).toBe("allowed");
    expect(judge({ f: 300, s: "b" })).toBe("QUERY_TOO_COMPLEX");
    // More shapes than the per-operation memory holds: each still judged on its own figures.
    for (let f = 1; f <= 300; f += 1) expect(judge({ f, s: "x" })).toBe(f * (f * 2 + 1) + 2 > QUERY_LIMITS.maxComplexity ? "QUERY_TOO_COMPLEX" : "allowed");
  });

  it("leaves operations of introspection fields only to the introspection setting", () => {
    const deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }";
    expect(limitsOf(schema, deep)).toBeNull();
    expect(limitsOf(schema, `{ node { name } ${deep.slice(1, -1)} }`)).toMatch(/nested \d+ levels/);
  });
});

const ME = "{ me { id name } }";
const FULL_CHECK = `
  input number issueCount latestIssueCount result recognized checkedAt
  card { number issueCount version state validFrom validUntil stateChangedAt holderStatus previousNumber currentNumber }
  parse { input normalized valid version nationality { alpha3 numeric name } province { code name } birthDate sex errors { code message } }`;
const THOUSAND = Array.from({ length: 1000 }, (_, i) => v2023(i));

async function post(hub: TestHub, body: string | Buffer, headers: Record<string, string> = {}): Promise<GraphQLAnswer> {
  const response = await fetch(`${hub.api.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const text = await response.text();
  return { status: response.status, ...(JSON.parse(text) as object), headers: response.headers };
}

function codeOf(answer: GraphQLAnswer): string | undefined {
  return answer.errors?.[0]?.extensions.code;
}

describe("query limits and the HTTP edge, over HTTP", () => {
  let hub: TestHub;
  let issuer: string;
  let partner: string;

  beforeAll(async () => {
    hub = await TestHub.start();
    issuer = hub.key("ISSUER");
    partner = hub.partnerKey().secret;
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("refuses an operation nested deeper than the limit (real types mixed with introspection)", async () => {
    // No type of the hub nests beyond 5 levels; introspection types do, and only operations made
    // of introspection fields alone are left to the introspection setting.
    const deep = `{ me { id } __type(name: "Card") { fields { type { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
    const answer = await hub.gql(partner, deep);
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe("QUERY_TOO_COMPLEX");
    expect(answer.errors?.[0].message).toMatch(/levels deep; the limit is 8/);
    expect(answer.data ?? null).toBeNull();

    const deepest = `query($n: String!) { verifyHolder(input: { number: $n, englishName: "A B" }) { check { parse { nationality { name } } card { number } } } }`;
    const allowed = await hub.gql(hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY"]).secret, deepest, { n: v2023(1) });
    expect(allowed.errors).toBeUndefined();
  });

  it("refuses 21 aliases with QUERY_TOO_COMPLEX (HTTP 400) and allows 20", async () => {
    const aliased = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `m${i}: me { id }`).join(" ")} }`;
    const ok = await hub.gql(partner, aliased(20));
    expect(ok.status).toBe(200);
    expect(ok.errors).toBeUndefined();
    expect(Object.keys(ok.data)).toHaveLength(20);

    const refused = await hub.gql(partner, aliased(21));
    expect(refused.status).toBe(400);
    expect(codeOf(refused)).toBe("QUERY_TOO_COMPLEX");
    expect(refused.errors?.[0].message).toMatch(/21 aliases/);
    expect(refused.data ?? null).toBeNull();
  });

  it("allows one full checkCards of 1,000 numbers but refuses two aliased ones as too complex", async () => {
    const single = await hub.gql(issuer, `query($n: [String!]!) { checkCards(numbers: $n) { ${FULL_CHECK} } }`, { n: THOUSAND });
    expect(single.status).toBe(200);
    expect(single.errors).toBeUndefined();
    expect(single.data.checkCards).toHaveLength(1000);
    expect(single.data.checkCards[0]).toMatchObject({ input: THOUSAND[0], result: "NOT_FOUND" });

    hub.services.audit.flush();
    const before = (hub.services.db.$client.prepare("SELECT count(*) AS n FROM audit_log").get() as { n: number }).n;
    const double = await hub.gql(issuer, `query($n: [String!]!) { a: checkCards(numbers: $n) { ${FULL_CHECK} } b: checkCards(numbers: $n) { ${FULL_CHECK} } }`, { n: THOUSAND });
    expect(double.status).toBe(400);
    expect(codeOf(double)).toBe("QUERY_TOO_COMPLEX");
    expect(double.errors?.[0].message).toMatch(/complexity \d+ exceeds 50000/);
    expect(double.data ?? null).toBeNull();
    // Refused before anything ran: no check was audited.
    hub.services.audit.flush();
    expect((hub.services.db.$client.prepare("SELECT count(*) AS n FROM audit_log").get() as { n: number }).n).toBe(before);

    // The same with the numbers written inline.
    const literal = JSON.stringify(THOUSAND);
    const inline = await hub.gql(issuer, `{ a: checkCards(numbers: ${literal}) { ${FULL_CHECK} } b: checkCards(numbers: ${literal}) { ${FULL_CHECK} } }`);
    expect(inline.status).toBe(400);
    expect(codeOf(inline)).toBe("QUERY_TOO_COMPLEX");
  });

  it("answers invalid variables with BAD_USER_INPUT and HTTP 400, not an internal error", async () => {
    for (const n of [123, null, { a: 1 }, true]) {
      const answer = await hub.gql(issuer, "query($n: [String!]!) { checkCards(numbers: $n) { result } }", { n: [n] });
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toBe("BAD_USER_INPUT");
    }
    const date = await hub.gql(issuer, "mutation($i: IssueCardInput!) { issueCard(input: $i) { number } }", {
      i: { number: v2023(7), validFrom: "yesterday", validUntil: "2033-12-31", englishName: "A B" },
    });
    expect(date.status).toBe(400);
    expect(codeOf(date)).toBe("BAD_USER_INPUT");
  });

  it("refuses batched requests (a JSON array body) with BAD_USER_INPUT", async () => {
    const answer = await post(hub, JSON.stringify([{ query: ME }, { query: ME }]), { authorization: `Bearer ${partner}` });
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe("BAD_USER_INPUT");
    expect(answer.data ?? null).toBeNull();
  });

  it("refuses a body over 1 MiB with 413 BAD_USER_INPUT and accepts one just under it", async () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    const query = "query($n: String!) { parseCardNumber(number: $n) { valid errors { code } } }";
    const envelope = JSON.stringify({ query, variables: { n: "" } }).length;
    const under = await post(hub, JSON.stringify({ query, variables: { n: "9".repeat(MAX_BODY_BYTES - envelope) } }), { authorization: `Bearer ${partner}` });
    expect(under.status).toBe(200);
    expect(under.data.parseCardNumber).toMatchObject({ valid: false, errors: [{ code: "WRONG_LENGTH" }] });

    const over = await post(hub, JSON.stringify({ query, variables: { n: "9".repeat(MAX_BODY_BYTES - envelope + 1) } }), { authorization: `Bearer ${partner}` });
    expect(over.status).toBe(413);
    expect(codeOf(over)).toBe("BAD_USER_INPUT");

    const huge = await post(hub, Buffer.alloc(5 * MAX_BODY_BYTES, "9"), { authorization: `Bearer ${partner}` });
    expect(huge.status).toBe(413);
    expect(codeOf(huge)).toBe("BAD_USER_INPUT");

    // The api keeps answering after refusing big uploads.
    expect((await hub.gql(partner, ME)).errors).toBeUndefined();
  });

  it("answers a body that is not valid JSON with 400 BAD_USER_INPUT", async () => {
    for (const body of ["{", '{"query": "{ me { id } }"', "\u0000", "[1,"]) {
      const answer = await post(hub, body, { authorization: `Bearer ${partner}` });
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toBe("BAD_USER_INPUT");
    }
  });

  it("allows introspection in development, deep as it is", async () => {
    const answer = await hub.gql(partner, "{ __schema { types { name } } }");
    expect(answer.status).toBe(200);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(["CardCheck", "Query", "Mutation"]));
    const deep = await hub.gql(partner, "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }");
    expect(deep.errors).toBeUndefined();
    // Without a key nothing is parsed, introspection included.
    const anonymous = await hub.gql(null, "{ __schema { types { name } } }");
    expect(anonymous.status).toBe(401);
    expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
  });
});

describe("production mode", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start({ NODE_ENV: "production" });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("refuses introspection with BAD_USER_INPUT", async () => {
    expect(hub.config.isProduction).toBe(true);
    const admin = hub.key("ADMIN");
    for (const query of ["{ __schema { types { name } } }", '{ __type(name: "Card") { name } }']) {
      const answer = await hub.gql(admin, query);
      expect(answer.status).toBe(400);
      expect(codeOf(answer)).toBe("BAD_USER_INPUT");
      expect(answer.data ?? null).toBeNull();
    }
    // Ordinary operations work.
    expect((await hub.gql(admin, "{ partners { id } }")).errors).toBeUndefined();
  });
});

describe("internal errors", () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await TestHub.start();
  });
  afterAll(async () => {
    await hub?.close().catch(() => undefined);
  });

  it("are masked and carry extensions.requestId equal to the x-request-id header", async () => {
    const issuer = hub.key("ISSUER");
    hub.services.db.$client.exec("DROP TABLE events");
    const answer = await hub.gql(issuer, "mutation($i: IssueCardInput!) { issueCard(input: $i) { number } }", {
      i: { number: v2023(11), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "MARTIN, CLAIRE" },
    });
    expect(answer.status).toBe(200);
    expect(answer.errors).toHaveLength(1);
    const [error] = answer.errors!;
    expect(error.extensions.code).toBe("INTERNAL_SERVER_ERROR");
    const requestId = answer.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.extensions.requestId).toBe(requestId);
    // No SQL, table name or stack trace reaches the caller.
    expect(error.message).not.toMatch(/events|SQLITE|no such table|\n\s+at /i);
    expect(error.extensions).not.toHaveProperty("stacktrace");
    expect(error.extensions).not.toHaveProperty("exception");
    // The failed transaction left no card behind.
    const cards = (hub.services.db.$client.prepare("SELECT count(*) AS n FROM cards").get() as { n: number }).n;
    expect(cards).toBe(0);

    // Each request has its own id.
    const again = await hub.gql(issuer, "mutation($i: IssueCardInput!) { issueCard(input: $i) { number } }", {
      i: { number: v2023(12), validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "MARTIN, CLAIRE" },
    });
    expect(again.errors?.[0].extensions.requestId).toBe(again.headers.get("x-request-id"));
    expect(again.headers.get("x-request-id")).not.toBe(requestId);
  });
});
