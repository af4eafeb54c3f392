/**
 * The access matrix of the plain HTTP routes, written out by hand beside the GraphQL one
 * (access.test.ts): every route the api port serves has a row, and each row says which callers
 * get past authentication and authorization. A route added without a row fails the first test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../../src/api/start-api.ts";
import { TestHub } from "../helpers/temp-hub.ts";

const CALLERS = ["ANONYMOUS", "UNKNOWN_KEY", "REVOKED_KEY", "ADMIN", "ADMIN_NO_SCOPES", "ISSUER", "VIEWER", "PARTNER", "PARTNER_ALL_SCOPES", "PARTNER_NO_SCOPES"] as const;
type Caller = (typeof CALLERS)[number];
const KEYED: Caller[] = ["ADMIN", "ADMIN_NO_SCOPES", "ISSUER", "VIEWER", "PARTNER", "PARTNER_ALL_SCOPES", "PARTNER_NO_SCOPES"];
const EVERYONE: Caller[] = [...CALLERS];

interface Probe {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

/** Route key (as the api registers it) → the requests that exercise it and who gets through. */
const MATRIX: Record<string, { probes: Probe[]; allowed: Caller[] }> = {
  "/graphql": { probes: [{ method: "POST", path: "/graphql", body: '{"query":"{ me { id } }"}', headers: { "content-type": "application/json" } }, { method: "GET", path: "/graphql?query=%7B%20me%20%7B%20id%20%7D%20%7D" }], allowed: KEYED },
  "/livez": { probes: [{ method: "GET", path: "/livez" }], allowed: EVERYONE },
  "/healthz": { probes: [{ method: "GET", path: "/healthz" }], allowed: EVERYONE },
  "/readyz": { probes: [{ method: "GET", path: "/readyz" }], allowed: EVERYONE },
  // Test mode, no METRICS_TOKEN, no OPS_PORT: loopback callers only (ops-endpoints.test.ts covers the others).
  "/metrics": { probes: [{ method: "GET", path: "/metrics" }], allowed: EVERYONE },
  // The page and its assets carry no data: everything it shows comes through /graphql with a key.
  "/dashboard": { probes: [{ method: "GET", path: "/dashboard" }], allowed: EVERYONE },
  "/dashboard/*": { probes: [{ method: "GET", path: "/dashboard/app.js" }], allowed: EVERYONE },
  "/imports": {
    probes: [{ method: "POST", path: "/imports", body: '{"number":"911124198108030024","validFrom":"2024-01-01","validUntil":"2033-12-31","englishName":"A B"}\n', headers: { "content-type": "application/x-ndjson" } }],
    allowed: ["ISSUER"],
  },
  "/imports/*": { probes: [{ method: "GET", path: "/imports/imp_AAAAAAAAAAAA" }, { method: "GET", path: "/imports/imp_AAAAAAAAAAAA/rejects" }], allowed: ["ISSUER", "ADMIN", "ADMIN_NO_SCOPES"] },
  "/admin/queues": { probes: [{ method: "GET", path: "/admin/queues" }], allowed: ["ADMIN", "ADMIN_NO_SCOPES"] },
  "/admin/queues/*": { probes: [{ method: "GET", path: "/admin/queues/api/queues" }], allowed: ["ADMIN", "ADMIN_NO_SCOPES"] },
};

describe("access control of the HTTP routes", () => {
  let hub: TestHub;
  const authorization = {} as Record<Caller, string | null>;

  beforeAll(async () => {
    hub = await TestHub.start();
    const revoked = hub.services.apiKeys.create({ role: "ADMIN" });
    hub.services.apiKeys.revoke(revoked.apiKey.id);
    const keys: Record<Caller, string | null> = {
      ANONYMOUS: null,
      UNKNOWN_KEY: "fpr_not-a-real-key",
      REVOKED_KEY: revoked.secret,
      ADMIN: hub.key("ADMIN"),
      ADMIN_NO_SCOPES: hub.key("ADMIN", { scopes: [] }),
      ISSUER: hub.key("ISSUER"),
      VIEWER: hub.key("VIEWER"),
      PARTNER: hub.partnerKey().secret,
      PARTNER_ALL_SCOPES: hub.partnerKey(["CARDS_CHECK", "HOLDERS_VERIFY", "LINEAGE_READ", "EVENTS_ALL", "WEBHOOKS_MANAGE"]).secret,
      PARTNER_NO_SCOPES: hub.partnerKey([]).secret,
    };
    for (const caller of CALLERS) authorization[caller] = keys[caller] ? `Bearer ${keys[caller]}` : null;
  });
  afterAll(async () => {
    await hub?.close();
  });

  it("has a row for every route the api serves", () => {
    const served = ["/graphql", ...Object.keys(apiRoutes(hub.runtime, () => undefined))];
    expect(served.filter((route) => !MATRIX[route])).toEqual([]);
    expect(Object.keys(MATRIX).filter((route) => !served.includes(route))).toEqual([]);
  });

  for (const [route, { probes, allowed }] of Object.entries(MATRIX)) {
    it(`${route}: lets exactly ${allowed.length} of ${CALLERS.length} callers through`, async () => {
      for (const probe of probes) {
        for (const caller of CALLERS) {
          const headers: Record<string, string> = { ...probe.headers };
          if (authorization[caller]) headers.authorization = authorization[caller]!;
          const response = await fetch(`${hub.api.url}${probe.path}`, { method: probe.method, headers, body: probe.body });
          await response.arrayBuffer();
          const seen = [caller, probe.method, probe.path, response.status];
          if (allowed.includes(caller)) {
            expect(seen).not.toEqual([caller, probe.method, probe.path, 401]);
            expect(seen).not.toEqual([caller, probe.method, probe.path, 403]);
            expect(response.status, `${caller} ${probe.method} ${probe.path}`).toBeLessThan(500);
          } else {
            // No key, or one that is unknown or revoked: 401; a valid key of the wrong kind: 403.
            const expected = KEYED.includes(caller) ? 403 : 401;
            expect(seen).toEqual([caller, probe.method, probe.path, expected]);
          }
        }
      }
    });
  }
});
