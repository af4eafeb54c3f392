import fs from "node:fs";
import path from "node:path";
import {
  buildASTSchema,
  buildSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  isScalarType,
  parse,
  type GraphQLNamedType,
  type GraphQLSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import { emittedSchemaText, SCHEMA_FILE } from "../../src/api/schema-file.ts";
import { buildHubSchema } from "../../src/api/schema.ts";

const CONTRACT_COPY = path.resolve("schema/contract.graphql");
const SHARED_CONTRACT = path.resolve("../shared/api.graphql");

/**
 * Parts of the contract that later issues build. Each entry is removed when its issue lands,
 * so from then on the test checks it like everything else.
 */
const PENDING = new Set<string>([
  // Issue 15 (integrator conventions): Relay node interface, typed event fields, full PageInfo.
  "Node",
  "Card.id",
  "Query.node",
  "CardEvent.version",
  "CardEvent.state",
  "CardEvent.previousState",
  "CardEvent.holderStatus",
  "CardEvent.previousNumber",
  "CardEvent.currentNumber",
  "PageInfo.startCursor",
  "PageInfo.hasPreviousPage",
  // Issue 16 (live change feed over graphql-ws).
  "Subscription",
]);

function contractSchema(): GraphQLSchema {
  return buildASTSchema(parse(fs.readFileSync(CONTRACT_COPY, "utf8")), { assumeValidSDL: true });
}

function differences(contractType: GraphQLNamedType, hub: GraphQLSchema): string[] {
  const name = contractType.name;
  const ours = hub.getType(name);
  if (!ours) return [`type ${name} is missing`];
  if (ours.constructor !== contractType.constructor) return [`type ${name} is a different kind`];
  const problems: string[] = [];
  if (isEnumType(contractType) && isEnumType(ours)) {
    const values = new Set(ours.getValues().map((v) => v.name));
    for (const value of contractType.getValues()) if (!values.has(value.name)) problems.push(`${name}.${value.name} missing`);
  }
  if ((isObjectType(contractType) && isObjectType(ours)) || (isInputObjectType(contractType) && isInputObjectType(ours))) {
    const fields = ours.getFields() as Record<string, { type: unknown; args?: { name: string; type: unknown }[] }>;
    for (const field of Object.values(contractType.getFields()) as { name: string; type: unknown; args?: { name: string; type: unknown }[] }[]) {
      const id = `${name}.${field.name}`;
      if (PENDING.has(id)) continue;
      const mine = fields[field.name];
      if (!mine) {
        problems.push(`${id} missing`);
        continue;
      }
      if (String(mine.type) !== String(field.type)) problems.push(`${id} is ${String(mine.type)}, contract says ${String(field.type)}`);
      for (const arg of field.args ?? []) {
        const ourArg = mine.args?.find((a) => a.name === arg.name);
        if (!ourArg) problems.push(`${id}(${arg.name}) missing`);
        else if (String(ourArg.type) !== String(arg.type)) problems.push(`${id}(${arg.name}) is ${String(ourArg.type)}, contract says ${String(arg.type)}`);
      }
    }
  }
  return problems;
}

describe("GraphQL schema", () => {
  it("matches the committed schema/schema.graphql (run `npm run schema:emit` after changing types)", () => {
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(emittedSchemaText());
  });

  it("keeps the committed contract copy equal to shared/api.graphql when it is beside the repo", () => {
    if (!fs.existsSync(SHARED_CONTRACT)) return;
    expect(fs.readFileSync(CONTRACT_COPY, "utf8")).toBe(fs.readFileSync(SHARED_CONTRACT, "utf8"));
  });

  it("has every type, field, argument and enum value of the contract with the same names and types", () => {
    const hub = buildHubSchema();
    const problems = Object.values(contractSchema().getTypeMap())
      .filter((type) => !type.name.startsWith("__") && !PENDING.has(type.name))
      .filter((type) => !isScalarType(type) || !["String", "Int", "Float", "Boolean", "ID"].includes(type.name))
      .flatMap((type) => differences(type, hub));
    expect(problems).toEqual([]);
  });

  it("names only contract items in its pending list", () => {
    const contract = contractSchema();
    for (const id of PENDING) {
      const [typeName, field] = id.split(".");
      const type = contract.getType(typeName);
      expect(type, id).toBeDefined();
      if (field) expect((type as { getFields(): Record<string, unknown> }).getFields()[field], id).toBeDefined();
    }
  });

  it("describes every type, field and argument it exposes (the partners' manual)", () => {
    const undocumented: string[] = [];
    for (const type of Object.values(buildHubSchema().getTypeMap())) {
      if (type.name.startsWith("__") || ["String", "Int", "Float", "Boolean", "ID"].includes(type.name)) continue;
      if (!type.description && !["Query", "Mutation"].includes(type.name)) undocumented.push(type.name);
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields()) as { name: string; description?: string | null; args?: { name: string; description?: string | null }[] }[]) {
          if (!field.description) undocumented.push(`${type.name}.${field.name}`);
          for (const arg of field.args ?? []) if (!arg.description) undocumented.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it("parses back from the committed file", () => {
    expect(() => buildSchema(fs.readFileSync(SCHEMA_FILE, "utf8"))).not.toThrow();
  });
});
