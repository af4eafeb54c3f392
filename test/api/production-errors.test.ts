/**
 * Production mode: caller mistakes come back with caller codes (never INTERNAL_SERVER_ERROR, never
 * logged as errors) and messages carry no schema hints ("Did you mean ...").
 */
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatHubError } from "../../src/api/error-mapping.ts";
import { startApi, type ApiHandle } from "../../src/api/start-api.ts";
import { openRuntime, type HubRuntime } from "../../src/app/runtime.ts";
import { testConfig } from "../helpers/temp-hub.ts";

interface Answer {
  status: number;
  errors: { message: string; extensions: { code: string } }[];
}

async function startHub(env: Record<string, string>, entries: Record<string, unknown>[]) {
  const runtime = await openRuntime(testConfig(env), { log: (entry) => entries.push(entry) });
  const api = await startApi(runtime);
  return { runtime, api, admin: runtime.services.apiKeys.create({ role: "ADMIN" }).secret };
}

async function post(hub: { api: ApiHandle; admin: string }, body: unknown): Promise<Answer> {
  const response = await fetch(`${hub.api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${hub.admin}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { errors?: Answer["errors"] };
  return { status: response.status, errors: answer.errors ?? [] };
}

/** Mistakes graphql-js answers with suggestions: a misspelt field, an argument value, a variable value. */
const MISSPELT = [
  { query: "{ partnrs { id } }" },
  { query: "{ partners { nmae } }" },
  { query: "mutation { createApiKey(role: ADMN) { secret } }" },
  { query: "mutation ($r: Role!) { createApiKey(role: $r) { secret } }", variables: { r: "ADMN" } },
];

describe("errors in production", () => {
  const entries: Record<string, unknown>[] = [];
  let hub: { runtime: HubRuntime; api: ApiHandle; admin: string };
  beforeAll(async () => {
    hub = await startHub({ NODE_ENV: "production" }, entries);
  });
  afterAll(async () => {
    await hub.api.close();
    await hub.runtime.close();
  });
  const errorLogs = () => entries.filter((entry) => entry.level === "error");

  it("validation and variable-coercion messages carry no 'Did you mean' schema hints", async () => {
    for (const body of MISSPELT) {
      const answer = await post(hub, body);
      expect(answer.status).toBe(400);
      expect(answer.errors.length).toBeGreaterThan(0);
      for (const error of answer.errors) {
        expect(error.extensions.code).toBe("BAD_USER_INPUT");
        expect(error.message).not.toMatch(/did you mean/i);
        expect(error.message.length).toBeGreaterThan(10);
      }
    }
  });

  it("a persisted-query hash mismatch is a caller mistake: BAD_USER_INPUT, status 400, nothing logged as an error", async () => {
    const answer = await post(hub, { query: "{ partners { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } });
    expect(answer.status).toBe(400);
    expect(answer.errors).toEqual([expect.objectContaining({ message: "provided sha does not match query", extensions: { code: "BAD_USER_INPUT" } })]);
    const version = await post(hub, { query: "{ partners { id } }", extensions: { persistedQuery: { version: 2, sha256Hash: "0".repeat(64) } } });
    expect([version.status, version.errors[0].extensions.code]).toEqual([400, "BAD_USER_INPUT"]);
    expect(errorLogs()).toEqual([]);
  });

  it("too many variable errors (graphql-js aborts coercion) is a caller mistake too", async () => {
    const names = Array.from({ length: 60 }, (_, i) => `$v${i}`);
    const query = `query (${names.map((name) => `${name}: String!`).join(", ")}) { checkCards(numbers: [${names.join(", ")}]) { result } }`;
    const answer = await post(hub, { query });
    expect(answer.status).toBe(400);
    expect(answer.errors.length).toBeGreaterThan(50);
    expect(answer.errors.map((error) => error.extensions.code)).toEqual(answer.errors.map(() => "BAD_USER_INPUT"));
    expect(answer.errors.at(-1)!.message).toMatch(/too many errors/i);
    expect(errorLogs()).toEqual([]);
  });
});

describe("errors in development", () => {
  it("keep graphql-js's suggestions, which help while building an integration", async () => {
    const hub = await startHub({ NODE_ENV: "development" }, []);
    try {
      const answer = await post(hub, MISSPELT[0]);
      expect(answer.errors[0]).toMatchObject({ message: expect.stringMatching(/Did you mean "partners"\?/), extensions: { code: "BAD_USER_INPUT" } });
    } finally {
      await hub.api.close();
      await hub.runtime.close();
    }
  });
});

describe("formatHubError", () => {
  it("maps a parser limit (graphql-js maxTokens) to QUERY_TOO_COMPLEX, other syntax errors to BAD_USER_INPUT", () => {
    const syntax = (text: string, maxTokens?: number) => {
      try {
        parse(text, { maxTokens });
      } catch (error) {
        return formatHubError({ message: (error as Error).message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }, error, { hideSchemaDetails: true });
      }
      throw new Error("expected a syntax error");
    };
    expect(syntax("{ a b c d e f }", 4)).toMatchObject({ message: expect.stringMatching(/tokens/), extensions: { code: "QUERY_TOO_COMPLEX" } });
    expect(syntax("{ a ")).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
  });
});
