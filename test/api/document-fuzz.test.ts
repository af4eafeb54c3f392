/**
 * The standing adversarial suite for GraphQL documents: random documents built from the hub's own
 * schema (every root field, random arguments, aliases, directives, fragments, inline fragments,
 * variables of any JSON shape, several operations) and random mutations of their text. Whatever
 * arrives, the answer is below HTTP 500 with documented codes only, in bounded time, and the
 * register is intact afterwards.
 */
import fc from "fast-check";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHubSchema } from "../../src/api/schema.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const CALLER_CODES = ["UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "INVALID_CARD_NUMBER", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "QUERY_TOO_COMPLEX"];
const UNLIMITED = "PARTNER=1000000,ISSUER=1000000,ADMIN=1000000,VIEWER=1000000";
const SENTINEL = v2023(1);
const schema = buildHubSchema();

const scalarLiteral = fc.oneof(
  fc.constantFrom('"911124198108030024"', '"CAN110081080319"', '""', '"\\u0000"', '"x"', "null", "true", "0", "-1", "2147483648", "1e309", "1.5", "[]", "{}", "$v", "$missing"),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.integer().map(String),
);

/** A literal of the scalar's own type, often one that means something to the hub. */
function typedScalar(name: string): fc.Arbitrary<string> {
  if (name === "Int") return fc.oneof(fc.constantFrom("0", "1", "10", "1000", "-1", "2147483647"), fc.integer({ min: -5, max: 2000 }).map(String), fc.constant("$n"));
  if (name === "Boolean") return fc.constantFrom("true", "false", "$b");
  if (name === "Date") return fc.constantFrom('"2024-01-01"', '"2033-12-31"', '"1999-02-29"', '"2024-13-01"', '"x"');
  if (name === "String" || name === "ID") {
    return fc.oneof(
      fc.constantFrom('"911124198108030024"', '"CAN110081080319"', '"932682198501010017"', '""', '"\\u0000"', '"sub_missing"', '"prt_x"', '"DOE, JANE"', "$v"),
      fc.string({ maxLength: 16 }).map((text) => JSON.stringify(text)),
    );
  }
  return scalarLiteral;
}

/** A literal for an argument type: usually of the right shape, sometimes anything. */
function literalFor(type: GraphQLInputType, depth: number): fc.Arbitrary<string> {
  if (depth > 3) return scalarLiteral;
  const inner = isNonNullType(type) ? type.ofType : type;
  const fitting = isListType(inner)
    ? fc.array(literalFor(inner.ofType, depth + 1), { maxLength: 4 }).map((items) => `[${items.join(", ")}]`)
    : isEnumType(inner)
      ? fc.constantFrom(...inner.getValues().map((v) => v.name), "NOT_A_VALUE")
      : isInputObjectType(inner)
        ? fc
            .subarray(Object.values(inner.getFields()).filter((f) => !isNonNullType(f.type)))
            .map((chosen) => [...Object.values(inner.getFields()).filter((f) => isNonNullType(f.type)), ...chosen])
            .chain((fields) => fc.tuple(...fields.map((f) => literalFor(f.type, depth + 1).map((v) => `${f.name}: ${v}`))))
            .map((pairs) => `{ ${pairs.join(", ")} }`)
        : typedScalar(inner.name);
  return fc.oneof({ weight: 12, arbitrary: fitting }, { weight: 1, arbitrary: scalarLiteral });
}

const directive = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom("", "", "", " @include(if: true)", " @skip(if: $b)", " @skip(if: false) @include(if: $b)") },
  { weight: 1, arbitrary: fc.constantFrom(" @include(if: $v)", " @deprecated", " @nope", " @skip", " @skip(if: true) @skip(if: false)") },
);

/** A selection of an object type: random fields (with arguments), aliases, directives, inline fragments. */
function selectionOf(type: GraphQLObjectType, depth: number): fc.Arbitrary<string> {
  const fields = Object.values(type.getFields());
  const one = fc.constantFrom(...fields).chain((field) => fieldSelection(field, depth));
  return fc
    .tuple(fc.array(one, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([parts, inline]) => (inline ? `... on ${type.name} { ${parts.join(" ")} }` : parts.join(" ")));
}

function fieldSelection(field: GraphQLField<unknown, unknown>, depth: number): fc.Arbitrary<string> {
  const named = getNamedType(field.type);
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const optional = field.args.filter((a) => !required.includes(a));
  const args = field.args.length
    ? fc.subarray(optional).map((chosen) => [...required, ...chosen]).chain((chosen) => fc.tuple(...chosen.map((a) => literalFor(a.type, 0).map((v) => `${a.name}: ${v}`))))
    : fc.constant([] as string[]);
  const below = isObjectType(named) && depth < 3 ? selectionOf(named, depth + 1).map((s) => ` { ${s} }`) : fc.constant(isScalarType(named) || isEnumType(named) ? "" : " { __typename }");
  return fc
    .tuple(fc.option(fc.nat(99_999), { nil: null }), args, directive, below)
    .map(([alias, argList, dir, sub]) => `${alias !== null ? `a${alias}: ` : ""}${field.name}${argList.length ? `(${argList.join(", ")})` : ""}${dir}${sub}`);
}

/** Declares the variables the selection uses (and, rarely, one it does not). */
function operation(kind: string, selection: string, unused: boolean): string {
  const declared = [selection.includes("$v") && "$v: String", selection.includes("$b") && "$b: Boolean = false", selection.includes("$n") && "$n: Int", unused && "$u: Int"].filter(Boolean);
  return `${kind} Main${declared.length ? `(${declared.join(", ")})` : ""} { ${selection} }`;
}

const rootSelection = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(selectionOf(schema.getQueryType()!, 1), fc.boolean()).map(([s, u]) => operation("query", s, u && s.length % 7 === 0)) },
  { weight: 1, arbitrary: fc.tuple(selectionOf(schema.getMutationType()!, 1), fc.boolean()).map(([s, u]) => operation("mutation", s, u && s.length % 7 === 0)) },
);

/** A document, maybe with a fragment, an extra operation, or its text damaged. */
const documentText = fc
  .tuple(rootSelection, fc.constantFrom("", "", "", "", "", "", "", "", "", "", "fragment F on CardCheck { result ...F }", "fragment F on Query { me { id } }", "query Q { me { id } }", "subscription S { changes { cursor } }", "{ me { id } }"), fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom("{", "}", "(", "...", "$", "@", '"', "#", "\u0000", "")) }))
  .map(([operation, extra, damage]) => {
    const text = `${operation}\n${extra}`;
    if (!damage) return text;
    const at = damage[0] % (text.length + 1);
    return text.slice(0, at) + damage[1] + text.slice(at);
  });

const variables = fc.oneof(fc.constant(undefined), fc.constant({ v: "911124198108030024", b: true, n: 5 }), fc.constant({ v: "CAN110081080319", n: 100000 }), fc.dictionary(fc.constantFrom("v", "b", "missing", "__proto__"), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue({ maxDepth: 2 }));

describe("fuzzing GraphQL documents over HTTP", () => {
  let hub: TestHub;
  let keys: string[];
  beforeAll(async () => {
    hub = await TestHub.start({ RATE_LIMIT_CHECKS: UNLIMITED, RATE_LIMIT_VERIFICATIONS: UNLIMITED });
    await issue(hub, hub.key("ISSUER"), SENTINEL);
    // Every role but the issuer: the register must stay as it is.
    keys = [hub.key("ADMIN"), hub.key("VIEWER"), hub.partnerKey().secret, hub.partnerKey(["CARDS_CHECK", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE", "HOLDERS_VERIFY"]).secret];
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("answers every generated document below 500 with documented codes", async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(documentText, variables, fc.nat({ max: 3 }), fc.boolean(), async (query, vars, who, useGet) => {
        const init: RequestInit = useGet
          ? { method: "GET", headers: { authorization: `Bearer ${keys[who]}`, "apollo-require-preflight": "1" } }
          : { method: "POST", headers: { authorization: `Bearer ${keys[who]}`, "content-type": "application/json" }, body: JSON.stringify({ query, variables: vars }) };
        const url = useGet ? `${hub.api.url}/graphql?query=${encodeURIComponent(query)}` : `${hub.api.url}/graphql`;
        const response = await fetch(url, init);
        expect(response.status, query).toBeLessThan(500);
        const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
        const outcome = body.data ? "executed" : (body.errors?.[0]?.extensions?.code ?? "none");
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        for (const error of body.errors ?? []) expect(CALLER_CODES, query).toContain(error.extensions?.code);
      }),
      { numRuns: 250 },
    );
    // The generator must keep reaching the resolvers, not only the parser and validation.
    const refusedEarly = outcomes.get("BAD_USER_INPUT") ?? 0;
    expect(250 - refusedEarly, JSON.stringify([...outcomes])).toBeGreaterThan(25);
  }, 240_000);

  it("leaves the register intact and keeps answering", async () => {
    const answer = await hub.gql(keys[0], `{ checkCard(number: "${SENTINEL}") { result } }`);
    expect(answer.data.checkCard.result).toBe("VALID");
  });
});
