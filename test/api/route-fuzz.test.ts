/**
 * The standing adversarial suite for the plain HTTP routes: random methods, paths (traversal,
 * encodings, doubled slashes), Authorization headers of every kind and role, content types and
 * bodies, sent to every route the api serves. Whatever arrives, the answer is below HTTP 500, a
 * JSON error carries a documented code, nothing escapes DATA_DIR, and the api keeps answering.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { issue, v2023 } from "../helpers/webhook-fixtures.ts";

const CALLER_CODES = ["UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "INVALID_CARD_NUMBER", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "QUERY_TOO_COMPLEX"];
const SENTINEL = v2023(1);

const ROUTES = [
  "/graphql",
  "/healthz",
  "/readyz",
  "/metrics",
  "/dashboard",
  "/dashboard/",
  "/dashboard/app.js",
  "/imports",
  "/imports/imp_AAAAAAAAAAAA",
  "/imports/imp_AAAAAAAAAAAA/rejects",
  "/admin/queues",
  "/admin/queues/api/queues",
  "/admin/queues/api/queues/imports.run/retry/failed",
];

const PATH_DAMAGE = [
  "",
  "/",
  "/..",
  "/../../etc/passwd",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/..%2f..%2fhub.sqlite",
  "%00",
  "/\u0000",
  "?query=%7B%20me%20%7B%20id%20%7D%20%7D",
  "?format=csv",
  "?format=../../x",
  "#x",
  "/imp_../../../x",
  "//",
  "/" + "a".repeat(3000),
];

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "FOO"];
const CONTENT_TYPES = [undefined, "application/json", "text/csv", "application/x-ndjson", "text/html", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "*/*"];

interface Answer {
  status: number;
  type: string;
  body: string;
}

function send(base: string, method: string, target: string, headers: Record<string, string>, body: Buffer | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const request = http.request({ host: url.hostname, port: url.port, method, path: target, headers: { ...headers, ...(body ? { "content-length": String(body.length) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, type: String(response.headers["content-type"] ?? ""), body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body ?? undefined);
  });
}

describe("fuzzing the HTTP routes", () => {
  let hub: TestHub;
  let authorizations: string[];

  beforeAll(async () => {
    hub = await TestHub.start({}, undefined, { worker: true });
    const issuer = hub.key("ISSUER");
    await issue(hub, issuer, SENTINEL);
    const admin = hub.key("ADMIN");
    const keys = [issuer, admin, hub.key("VIEWER"), hub.partnerKey().secret];
    authorizations = [
      "",
      ...keys.map((key) => `Bearer ${key}`),
      `Basic ${Buffer.from(`admin:${admin}`).toString("base64")}`,
      "Bearer fpr_not-a-key",
      "Bearer",
      "Basic !!!",
      `Basic ${Buffer.from("nocolon").toString("base64")}`,
      `Bearer ${"x".repeat(8000)}`,
      `bearer ${issuer} extra`,
    ];
  });
  afterAll(async () => {
    await hub?.close();
  });

  const body = fc.oneof(
    fc.constant(null),
    fc.constantFrom('{"query":"{ me { id } }"}', "{", "[1,2]", "null", '{"query": 1}', "\u0000\u0001", '{"number":"911124198108030024","validFrom":"2024-01-01","validUntil":"2033-12-31","englishName":"=HYPERLINK(\\"x\\")"}', "number,validFrom\n=cmd|' /C calc'!A0,2024-01-01"),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
    fc.json({ maxDepth: 3 }),
  );

  it("answers every route below 500, with documented codes in JSON errors", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.constantFrom(...PATH_DAMAGE),
        fc.constantFrom(...METHODS),
        fc.nat({ max: 100 }),
        fc.constantFrom(...CONTENT_TYPES),
        body,
        async (route, damage, method, who, contentType, text) => {
          const headers: Record<string, string> = {};
          const authorization = authorizations[who % authorizations.length];
          if (authorization) headers.authorization = authorization;
          if (contentType) headers["content-type"] = contentType;
          const payload = text === null || method === "GET" || method === "HEAD" ? null : Buffer.from(text, "utf8");
          // eslint-disable-next-line no-control-regex -- control characters are the damage being encoded
          const target = `${route}${damage}`.replace(/[\u0000-\u001f]/g, encodeURIComponent);
          const answer = await send(hub.api.url, method, target, headers, payload);
          expect(answer.status, `${method} ${target}`).toBeLessThan(500);
          if (answer.type.includes("json") && answer.body.startsWith('{"errors"')) {
            const parsed = JSON.parse(answer.body) as { errors: { extensions?: { code?: string } }[] };
            for (const error of parsed.errors) expect(CALLER_CODES, `${method} ${target}`).toContain(error.extensions?.code);
          }
          expect(answer.body).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
        },
      ),
      { numRuns: 300 },
    );
  }, 240_000);

  it("keeps the register, keeps answering, and wrote nothing outside DATA_DIR", async () => {
    const answer = await hub.gql(hub.key("ADMIN"), `{ checkCard(number: "${SENTINEL}") { result } }`);
    expect(answer.data.checkCard.result).toBe("VALID");
    expect(fs.existsSync(path.join(hub.config.dataDir, "..", "x"))).toBe(false);
  });
});
