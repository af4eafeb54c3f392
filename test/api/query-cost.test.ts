/**
 * The cost of a document before it runs: fragments measured once per operation (random fragment
 * graphs, property-tested against a naive expansion), a field cap, the parser's token limit, and
 * authentication before any of it, so neither an anonymous caller nor a key can stall the api.
 */
import fc from "fast-check";
import { getOperationAST, GraphQLError, Kind, parse, validate, visit, type DocumentNode, type SelectionSetNode } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHubSchema } from "../../src/api/schema.ts";
import { checkQueryLimits, QUERY_LIMITS } from "../../src/api/query-limits.ts";
import { measureOperation } from "../../src/api/query-measure.ts";
import { TestHub, type GraphQLAnswer } from "../helpers/temp-hub.ts";

/** Fields of CardCheck without arguments or sub-selections, for generated fragments. */
const LEAVES = ["input", "number", "issueCount", "latestIssueCount", "result", "recognized", "checkedAt"];

/** Fragments F0…Fn on CardCheck, each spreading the next one `fanout` times: 2.5 KB that expands to fanout^n fields. */
function fragmentChain(levels: number, fanout: number): string {
  let query = `query Chain { checkCard(number: "911124198108030024") { ...F0 } }\n`;
  for (let i = 0; i < levels; i += 1) query += `fragment F${i} on CardCheck { result ${Array(fanout).fill(`...F${i + 1}`).join(" ")} }\n`;
  return `${query}fragment F${levels} on CardCheck { number }\n`;
}

/** A random DAG of fragments: each selects some leaves and spreads later fragments, maybe several times. */
const fragmentGraph = fc
  .integer({ min: 1, max: 40 })
  .chain((count) =>
    fc.array(
      fc.record({
        leaves: fc.subarray(LEAVES, { minLength: 1, maxLength: 3 }),
        spreads: fc.array(fc.nat({ max: 1000 }), { maxLength: 4 }),
        alias: fc.boolean(),
      }),
      { minLength: count, maxLength: count },
    ),
  )
  .map((fragments) => {
    const body = fragments.map((fragment, i) => {
      const later = fragments.length - i - 1;
      const spreads = later > 0 ? fragment.spreads.map((n) => `...G${i + 1 + (n % later)}`) : [];
      const leaves = fragment.leaves.map((leaf, j) => (fragment.alias && j === 0 ? `a${i}: ${leaf}` : leaf));
      return `fragment G${i} on CardCheck { ${[...leaves, ...spreads].join(" ")} }`;
    });
    // Spread every fragment no other one spreads, so none is unused.
    const spread = new Set(body.flatMap((text) => [...text.matchAll(/\.\.\.G(\d+)/g)].map((m) => Number(m[1]))));
    const roots = fragments.map((_, i) => i).filter((i) => !spread.has(i));
    return `{ checkCard(number: "911124198108030024") { ${roots.map((i) => `...G${i}`).join(" ")} } }\n${body.join("\n")}`;
  });

function selectionsIn(document: DocumentNode): number {
  let count = 0;
  visit(document, { SelectionSet: (set) => void (count += set.selections.length) });
  return count;
}

/** Fields and aliases by expanding every spread where it stands, with a budget: the reference the measure must agree with. */
function naiveExpansion(document: DocumentNode, set: SelectionSetNode, budget: { left: number }): { fields: number; aliases: number } | null {
  let fields = 0;
  let aliases = 0;
  for (const selection of set.selections) {
    if ((budget.left -= 1) < 0) return null;
    let inner: { fields: number; aliases: number } | null = { fields: 0, aliases: 0 };
    if (selection.kind === Kind.FIELD) {
      fields += 1;
      if (selection.alias) aliases += 1;
      if (selection.selectionSet) inner = naiveExpansion(document, selection.selectionSet, budget);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = naiveExpansion(document, selection.selectionSet, budget);
    } else {
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) inner = naiveExpansion(document, fragment.selectionSet, budget);
    }
    if (!inner) return null;
    fields += inner.fields;
    aliases += inner.aliases;
  }
  return { fields, aliases };
}

/** The limits' verdict: null when allowed, else the QUERY_TOO_COMPLEX message. */
function verdict(document: DocumentNode): string | null {
  try {
    checkQueryLimits(buildHubSchema(), document, getOperationAST(document)!, {});
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions.code).toBe("QUERY_TOO_COMPLEX");
    return (error as GraphQLError).message;
  }
}

describe("measuring an operation", () => {
  it("measures a fragment chain that expands to 3^40 fields by reading each selection once", () => {
    const document = parse(fragmentChain(40, 3));
    const measure = measureOperation(document, getOperationAST(document)!);
    expect(measure.visited).toBe(selectionsIn(document));
    expect(measure.fields).toBeGreaterThan(QUERY_LIMITS.maxFields);
    expect(validate(buildHubSchema(), document)).toEqual([]);
    expect(verdict(document)).toMatch(/more than 2000 fields once its fragments are expanded/);
  });

  it("agrees with a naive expansion on random fragment graphs, in work linear in the document", () => {
    const schema = buildHubSchema();
    fc.assert(
      fc.property(fragmentGraph, (query) => {
        const document = parse(query);
        expect(validate(schema, document)).toEqual([]);
        const measure = measureOperation(document, getOperationAST(document)!);
        // Work: each selection of the document read once, however often its fragment is spread.
        expect(measure.visited).toBeLessThanOrEqual(selectionsIn(document));
        // Figures: the same as expanding every spread where it stands (when that is small enough to do).
        const reference = naiveExpansion(document, getOperationAST(document)!.selectionSet, { left: 20_000 });
        if (reference) {
          expect(measure.fields).toBe(reference.fields);
          expect(measure.aliases).toBe(reference.aliases);
        } else {
          expect(measure.fields).toBeGreaterThan(10_000);
        }
        // The verdict follows the figures: too many fields or aliases is refused, else allowed.
        const refused = verdict(document);
        if (measure.fields > QUERY_LIMITS.maxFields || measure.aliases > QUERY_LIMITS.maxAliases) expect(refused).not.toBeNull();
        else expect(refused).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it("bounds introspection by depth and by nested lists, not by the ordinary depth limit", () => {
    const toolQuery = "{ __schema { types { name fields { name args { name type { kind ofType { kind ofType { kind ofType { name } } } } } } } } }";
    expect(verdict(parse(toolQuery))).toBeNull();
    const multiplying = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    expect(verdict(parse(multiplying))).toMatch(/nests 4 lists; the limit is 3/);
    let deep = "name";
    for (let i = 0; i < 20; i += 1) deep = `ofType { ${deep} }`;
    expect(verdict(parse(`{ __type(name: "Card") { ${deep} } }`))).toMatch(/introspection query is nested \d+ levels deep/);
  });
});

async function post(hub: TestHub, query: string, key: string | null): Promise<GraphQLAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(`${hub.api.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query }) });
  return { status: response.status, ...((await response.json()) as object), headers: response.headers };
}

describe("costly documents over HTTP", () => {
  let hub: TestHub;
  let partner: string;
  beforeAll(async () => {
    hub = await TestHub.start();
    partner = hub.partnerKey().secret;
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("refuses a 2.5 KB exponential fragment chain from a key with QUERY_TOO_COMPLEX and stays responsive", async () => {
    const query = fragmentChain(60, 3);
    expect(query.length).toBeLessThan(4_000);
    const answer = await post(hub, query, partner);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    expect((await hub.gql(partner, "{ me { id } }")).errors).toBeUndefined();
  }, 10_000);

  it("answers an anonymous or unknown caller 401 before reading the document", async () => {
    for (const key of [null, "fpr_not-a-key"]) {
      const answer = await post(hub, fragmentChain(60, 3), key);
      expect(answer.status).toBe(401);
      expect(answer.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    // Even a body over the size limit: refused for the missing key, not read.
    const huge = await post(hub, `{ ${"me ".repeat(400_000)} }`, null);
    expect(huge.status).toBe(401);
  }, 10_000);

  it("refuses a document over the token limit, and one graphql-js gives up validating, with QUERY_TOO_COMPLEX", async () => {
    const tokens = await post(hub, `{ checkCards(numbers: [${Array(QUERY_LIMITS.maxTokens).fill('"1"').join(",")}]) { result } }`, partner);
    expect(tokens.status).toBe(400);
    expect(tokens.errors?.[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    const long = await post(hub, `{ me { id } } # ${"x".repeat(QUERY_LIMITS.maxSourceLength)}`, partner);
    expect(long.status).toBe(400);
    expect(long.errors?.[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    const overlapping = await post(hub, `{ checkCard(number: "1") { ${"result ".repeat(1_500)} } }`, partner);
    expect(overlapping.status).toBe(400);
    expect(overlapping.errors?.map((e) => e.extensions.code)).toContain("QUERY_TOO_COMPLEX");
    // A full 1,000-number literal batch is well inside the token limit.
    const batch = await post(hub, `{ checkCards(numbers: [${Array(1000).fill('"911124198108030024"').join(",")}]) { result } }`, partner);
    expect(batch.errors).toBeUndefined();
  }, 20_000);

  it("answers random fragment graphs below 500 with the documented codes", async () => {
    await fc.assert(
      fc.asyncProperty(fragmentGraph, async (query) => {
        const answer = await post(hub, query, partner);
        expect(answer.status).toBeLessThan(500);
        for (const error of answer.errors ?? []) expect(["QUERY_TOO_COMPLEX", "RATE_LIMITED", "BAD_USER_INPUT"]).toContain(error.extensions.code);
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
