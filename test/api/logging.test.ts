import { describe, expect, it } from "vitest";
import { startApi } from "../../src/api/start-api.ts";
import { openRuntime } from "../../src/app/runtime.ts";
import { testConfig } from "../helpers/temp-hub.ts";

describe("logs", () => {
  it("log internal errors with the request id the caller got, and never a key, a secret or a name", async () => {
    const entries: Record<string, unknown>[] = [];
    const runtime = await openRuntime(testConfig(), { log: (entry) => entries.push(entry) });
    const api = await startApi(runtime);
    try {
      const issuer = runtime.services.apiKeys.create({ role: "ISSUER" }).secret;
      runtime.services.db.$client.exec("DROP TABLE events");
      const response = await fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${issuer}` },
        body: JSON.stringify({
          query: 'mutation { issueCard(input: { number: "911124198108030024", validFrom: "2024-03-01", validUntil: "2034-02-28", englishName: "Quixotic Person" }) { number } }',
        }),
      });
      const requestId = response.headers.get("x-request-id");
      expect(((await response.json()) as any).errors[0].extensions).toEqual({ code: "INTERNAL_SERVER_ERROR", requestId });
      const logged = entries.find((e) => e.msg === "internal error");
      expect(logged).toMatchObject({ level: "error", requestId });
      expect(entries.find((e) => e.msg === "request" && e.requestId === requestId)).toMatchObject({ level: "debug", method: "POST", path: "/graphql", status: 200 });
      const text = JSON.stringify(entries);
      expect(text).not.toContain(issuer);
      expect(text).not.toMatch(/Quixotic/i);
      expect(text).not.toMatch(/authorization/i);
    } finally {
      await api.close();
      await runtime.close();
    }
  });
});
