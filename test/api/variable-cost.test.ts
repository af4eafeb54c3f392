/**
 * What variables cost (found by an adversarial review): a value is copied wherever the operation
 * reads it, so a 900 KB string read 1,000 times in one list literal cost the api a minute and
 * gigabytes; undeclared or deeply nested variables reached the cost estimate's cache and stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUERY_LIMITS } from "../../src/api/query-limits.ts";
import { TestHub } from "../helpers/temp-hub.ts";

interface Answer {
  status: number;
  body: { data?: any; errors?: { extensions: { code: string } }[] } | null;
}

async function post(hub: TestHub, secret: string, body: string): Promise<Answer> {
  const response = await fetch(`${hub.api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const codes = (answer: Answer) => (answer.body?.errors ?? []).map((e) => e.extensions.code);

describe("the cost of variables", () => {
  let hub: TestHub;
  let partner: string;
  let viewer: string;

  beforeAll(async () => {
    hub = await TestHub.start({ RATE_LIMIT_CHECKS: "PARTNER=1000000,ISSUER=1000000,ADMIN=1000000,VIEWER=1000000" });
    partner = hub.partnerKey().secret;
    viewer = hub.key("VIEWER", { scopes: [] });
  });
  afterAll(() => hub?.close());

  const manyUses = (uses: number) => `query($s: String!) { checkCards(numbers: [${Array(uses).fill("$s").join(",")}]) { input result } }`;

  it("refuses a large value read many times, before any resolver copies it", async () => {
    const answer = await post(hub, partner, JSON.stringify({ query: manyUses(1000), variables: { s: "9".repeat(900_000) } }));
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(["QUERY_TOO_COMPLEX"]);
    // The same operation with a card number's worth of text is an ordinary batch.
    const small = await post(hub, partner, JSON.stringify({ query: manyUses(1000), variables: { s: "911124198108030024" } }));
    expect(small.body?.errors).toBeUndefined();
    expect(small.body?.data.checkCards).toHaveLength(1000);
  });

  it("counts the uses inside fragments and aliases too", async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: parseCardNumber(number: $s) { valid }`).join(" ");
    const viaAliases = await post(hub, viewer, JSON.stringify({ query: `query($s: String!) { ${aliases} }`, variables: { s: "9".repeat(60_000) } }));
    expect(codes(viaAliases)).toEqual(["QUERY_TOO_COMPLEX"]);
    const viaFragments = `query($s: String!) { ...A ...A ...A } fragment A on Query { ...B ...B ...B ...B } fragment B on Query { p: parseCardNumber(number: $s) { valid } }`;
    const big = "9".repeat(Math.ceil(QUERY_LIMITS.maxVariableBytes / 10));
    expect(codes(await post(hub, viewer, JSON.stringify({ query: viaFragments, variables: { s: big } })))).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(codes(await post(hub, viewer, JSON.stringify({ query: viaFragments, variables: { s: big.slice(0, 1000) } })))).toEqual([]);
  });

  it("answers deeply nested variables, declared or not, with a caller code", async () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const undeclared = await post(hub, viewer, `{"query":"{ parseCardNumber(number: \\"1\\") { valid } }","variables":{"junk":${deep}}}`);
    expect(undeclared.status).toBe(200);
    expect(undeclared.body?.data.parseCardNumber.valid).toBe(false);
    const declared = await post(hub, partner, `{"query":"query($n: [String!]!) { checkCards(numbers: $n) { result } }","variables":{"n":${deep}}}`);
    expect(declared.status).toBe(400);
    expect(codes(declared).every((code) => code === "QUERY_TOO_COMPLEX" || code === "BAD_USER_INPUT")).toBe(true);
  });

  it("answers a JSON body of null (it used to leave the connection open)", async () => {
    const answer = await post(hub, viewer, "null");
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(["BAD_USER_INPUT"]);
  });

  it("holds introspection to the alias limit as well", async () => {
    const aliases = Array.from({ length: 21 }, (_, i) => `s${i}: __schema { types { name } }`).join(" ");
    expect(codes(await post(hub, viewer, JSON.stringify({ query: `{ ${aliases} }` })))).toEqual(["QUERY_TOO_COMPLEX"]);
  });
});
