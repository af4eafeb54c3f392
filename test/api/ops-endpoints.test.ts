/**
 * /metrics answers only those it should (METRICS_TOKEN, OPS_PORT, production default), and
 * /livez, /healthz and /readyz say the status and nothing else.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startWorker } from "../../jobs/worker.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { startWorkerOps } from "../../src/api/ops-routes.ts";
import { openRuntime } from "../../src/app/runtime.ts";
import { TestHub, testConfig } from "../helpers/temp-hub.ts";

const TOKEN = "metrics-token-0123456789abcdef";

describe("operations endpoints", () => {
  const hubs: TestHub[] = [];
  const start = async (env: Record<string, string>) => {
    const hub = await TestHub.start(env);
    hubs.push(hub);
    return hub;
  };
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  });
  const get = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it("with METRICS_TOKEN, /metrics without the token (or with another) is 401, and works with it", async () => {
    const hub = await start({ METRICS_TOKEN: TOKEN });
    for (const token of [undefined, "wrong-token-0123456789", hub.key("ADMIN")]) {
      const refused = await get(`${hub.api.url}/metrics`, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const body = await refused.text();
      expect(body).not.toMatch(/fpr_hub_/);
      expect(JSON.parse(body).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
    const scraped = await get(`${hub.api.url}/metrics`, TOKEN);
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get("content-type")).toMatch(/text\/plain/);
    expect(await scraped.text()).toMatch(/^fpr_hub_outbox_backlog \d+$/m);
  });

  it("with OPS_PORT, a second listener serves /metrics, /livez, /healthz and /readyz; the api port no longer serves /metrics", async () => {
    const hub = await start({ OPS_PORT: "0" });
    expect(hub.api.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(hub.api.opsUrl).not.toBe(hub.api.url);
    expect((await get(`${hub.api.url}/metrics`)).status).toBe(404);
    const scraped = await get(`${hub.api.opsUrl}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^fpr_hub_outbox_backlog \d+$/m);
    expect(await (await get(`${hub.api.opsUrl}/livez`)).json()).toEqual({ status: "ok" });
    expect(await (await get(`${hub.api.opsUrl}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await get(`${hub.api.opsUrl}/readyz`)).json()).toEqual({ status: "ready" });
    expect((await get(`${hub.api.opsUrl}/graphql`)).status).toBe(404);
  });

  it("with OPS_PORT and METRICS_TOKEN, the operations listener wants the token too", async () => {
    const hub = await start({ OPS_PORT: "0", METRICS_TOKEN: TOKEN });
    expect((await get(`${hub.api.opsUrl}/metrics`)).status).toBe(401);
    expect((await get(`${hub.api.opsUrl}/metrics`, TOKEN)).status).toBe(200);
  });

  it("a worker alone (fpr-hub worker) serves its metrics on OPS_PORT, with the token when one is set", async () => {
    const runtime = await openRuntime(testConfig({ OPS_PORT: "0", METRICS_TOKEN: TOKEN }), { log: () => {} });
    const worker = await startWorker(runtime);
    const ops = await startWorkerOps(runtime);
    try {
      expect((await get(`${ops!.url}/metrics`)).status).toBe(401);
      expect(await (await get(`${ops!.url}/metrics`, TOKEN)).text()).toMatch(/^fpr_hub_outbox_backlog \d+$/m);
    } finally {
      await ops?.close();
      await worker.close();
      await runtime.close();
    }
    const plain = await openRuntime(testConfig(), { log: () => {} });
    expect(await startWorkerOps(plain)).toBeNull();
    await plain.close();
  });

  it("in production with neither set, /metrics is not served at all", async () => {
    const hub = await start({ NODE_ENV: "production" });
    expect(hub.api.opsUrl).toBeNull();
    const answer = await get(`${hub.api.url}/metrics`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toMatch(/fpr_hub_/);
  });

  it("/livez, /healthz and /readyz bodies carry the status only: no database, Redis, versions or queue depths", async () => {
    const hub = await start({});
    const ready = await get(`${hub.api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
    expect(await (await get(`${hub.api.url}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await get(`${hub.api.url}/livez`)).json()).toEqual({ status: "ok" });
  });

  it("stops the start on an invalid OPS_PORT or METRICS_TOKEN, naming the variable", () => {
    for (const [env, message] of [
      [{ OPS_PORT: "metrics" }, /^OPS_PORT /],
      [{ OPS_PORT: "70000" }, /^OPS_PORT /],
      [{ PORT: "4000", OPS_PORT: "4000" }, /^OPS_PORT must differ from PORT/],
      [{ METRICS_TOKEN: "short" }, /^METRICS_TOKEN /],
      [{ METRICS_TOKEN: "has spaces in the token value" }, /^METRICS_TOKEN /],
    ] as const) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
    expect(loadConfig({}).ops).toEqual({ port: null, host: "127.0.0.1", metricsToken: null });
    expect(loadConfig({ HOST: "0.0.0.0", OPS_PORT: "9464", OPS_HOST: "10.0.0.5", METRICS_TOKEN: TOKEN }).ops).toEqual({ port: 9464, host: "10.0.0.5", metricsToken: TOKEN });
  });
});
