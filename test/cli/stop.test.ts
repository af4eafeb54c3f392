import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { makeV2023Number } from "../../src/card-numbers/card-number-generator.ts";
import { loadConfig } from "../../src/config.ts";
import { closeServices } from "../../src/app/services.ts";
import { openServices } from "../../src/app/open-services.ts";
import { hubEnv, HubProcess, isAlive } from "../helpers/hub-process.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { redisUrl, uniquePrefix } from "../helpers/redis.ts";
import { tempDir, TestHub } from "../helpers/temp-hub.ts";

/**
 * Stopping `fpr-hub start`, `api` and `worker` with signals, as a service manager does: real
 * child processes (NODE_ENV=development, where Apollo installs its own signal handlers), a real
 * private redis-server, real SQLite, loopback HTTP. What each test proves is in its name.
 */

const CHECK_BODY = JSON.stringify({ query: '{ checkCard(number: "911124198108030024") { result } }' });
const HUB_TIMEOUT = 240_000;

/** A PARTNER key in a fresh DATA_DIR, made before the hub starts (as `fpr-hub key create` would). */
function dataDirWithKey(): { dataDir: string; secret: string } {
  const dataDir = tempDir();
  const services = openServices(loadConfig(hubEnv(dataDir)));
  const partner = services.partners.create({ name: "Stop Hotel", industry: "ACCOMMODATION", provinceCode: "11" });
  const { secret } = services.apiKeys.create({ role: "PARTNER", partnerId: partner.id, scopes: ["CARDS_CHECK"] });
  closeServices(services);
  services.db.$client.close();
  return { dataDir, secret };
}

/**
 * A GraphQL request left in flight: headers and half the body sent; `finish()` sends the rest and
 * resolves with the answer.
 */
function requestInFlight(url: string, secret: string): { finish(): Promise<{ status: number; connection?: string; body: any }>; failed: Promise<Error> } {
  const body = Buffer.from(CHECK_BODY);
  let answered: (value: { status: number; connection?: string; body: any }) => void;
  let failedWith: (error: Error) => void;
  const answer = new Promise<{ status: number; connection?: string; body: any }>((resolve) => (answered = resolve));
  const failed = new Promise<Error>((resolve) => (failedWith = resolve));
  const request = http.request(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": body.length, authorization: `Bearer ${secret}` },
  });
  request.on("response", (res) => {
    let text = "";
    res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    res.on("end", () => answered({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(text) }));
  });
  request.on("error", (error) => failedWith(error));
  request.write(body.subarray(0, 10));
  return {
    finish: () => {
      request.end(body.subarray(10));
      return answer;
    },
    failed,
  };
}

async function readyz(opsUrl: string): Promise<{ status: number; body: { problems?: string[] } }> {
  const answer = await fetch(`${opsUrl}/readyz`);
  return { status: answer.status, body: (await answer.json()) as { problems?: string[] } };
}

/** Lets the hub read the request's first bytes before the signal (nothing outside says when it has). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("stopping fpr-hub start with a signal", () => {
  const hubs: HubProcess[] = [];
  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.kill("SIGKILL")));
  });

  it("on SIGTERM: /readyz 503 at once, no new connections, the request in flight answered and audited, the private Redis stopped, exit 0", async () => {
    const { dataDir, secret } = dataDirWithKey();
    const hub = await HubProcess.start(["start"], hubEnv(dataDir, { OPS_PORT: "0" }));
    hubs.push(hub);
    const redisPid = hub.redisPid;
    expect(isAlive(redisPid)).toBe(true);
    expect((await readyz(hub.opsUrl)).status).toBe(200);

    const inFlight = requestInFlight(hub.url, secret);
    await settle();
    hub.signal("SIGTERM");
    // Not ready from the first moment, on the operations listener that stays up while the api drains.
    await eventually(async () => (await readyz(hub.opsUrl)).body.problems?.includes("shutting-down") ?? false, 10_000, "/readyz saying shutting-down");
    expect((await readyz(hub.opsUrl)).status).toBe(503);
    // The api port takes no new connection.
    await eventually(() => fetch(`${hub.url}/livez`).then(() => false, () => true), 10_000, "the api port refusing connections");

    const answer = await inFlight.finish();
    expect(answer.status).toBe(200);
    expect(answer.body.data.checkCard.result).toBe("NOT_FOUND");
    expect(answer.connection).toBe("close");

    const exit = await hub.exited;
    expect(exit, hub.output).toEqual({ code: 0, signal: null });
    expect(hub.output).toMatch(/"msg":"stopped"/);
    expect(hub.output).not.toMatch(/unexpected error|grace period/);
    expect(isAlive(redisPid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, "redis", "owner.json"))).toBe(false);
    // The answered check's audit record was flushed before the exit.
    const db = new Database(path.join(dataDir, "fpr-hub.sqlite"), { readonly: true });
    try {
      expect(db.prepare("SELECT kind, result FROM audit_log").all()).toEqual([{ kind: "CHECK", result: "NOT_FOUND" }]);
    } finally {
      db.close();
    }
  }, HUB_TIMEOUT);

  it("exits 1 after SHUTDOWN_GRACE_MS with one line naming what still runs, and still stops its Redis", async () => {
    const { dataDir, secret } = dataDirWithKey();
    const hub = await HubProcess.start(["start"], hubEnv(dataDir, { SHUTDOWN_GRACE_MS: "1500" }));
    hubs.push(hub);
    const redisPid = hub.redisPid;
    requestInFlight(hub.url, secret); // never finished
    await settle();
    hub.signal("SIGTERM");
    const exit = await hub.exited;
    expect(exit, hub.output).toEqual({ code: 1, signal: null });
    const lines = hub.output.split("\n").filter((line) => line.includes("grace period"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: expect.stringMatching(/grace period of 1500 ms over/), stillRunning: ["api (1 connections open)", "runtime (audit and key-use flush, queues, database, Redis)"] });
    await eventually(() => !isAlive(redisPid), 15_000, "the redis-server child stopping");
  }, HUB_TIMEOUT);

  it("a second signal exits at once: SIGINT starts the stop, SIGTERM ends it with 143", async () => {
    const { dataDir, secret } = dataDirWithKey();
    const hub = await HubProcess.start(["start"], hubEnv(dataDir, { OPS_PORT: "0", SHUTDOWN_GRACE_MS: "120000" }));
    hubs.push(hub);
    requestInFlight(hub.url, secret); // holds the stop open
    await settle();
    hub.signal("SIGINT");
    await eventually(async () => (await readyz(hub.opsUrl)).body.problems?.includes("shutting-down") ?? false, 10_000, "the stop under way");
    hub.signal("SIGTERM");
    expect(await hub.exited, hub.output).toEqual({ code: 143, signal: null });
    expect(hub.output).toMatch(/second signal \(SIGTERM\); exiting now/);
    await eventually(() => !isAlive(hub.redisPid), 15_000, "the redis-server child stopping");
  }, HUB_TIMEOUT);
});

describe("stopping fpr-hub api and fpr-hub worker", () => {
  const hubs: HubProcess[] = [];
  let hub: TestHub | undefined;
  let receiver: TestReceiver | undefined;
  afterAll(async () => {
    await Promise.all(hubs.map((child) => child.kill("SIGKILL")));
    await receiver?.close();
    await hub?.close();
  });

  it("fpr-hub api stops on SIGINT with exit 0", async () => {
    const api = await HubProcess.start(["api"], hubEnv(tempDir(), { REDIS_URL: redisUrl(), QUEUE_PREFIX: uniquePrefix() }));
    hubs.push(api);
    expect((await fetch(`${api.url}/livez`)).status).toBe(200);
    api.signal("SIGINT");
    expect(await api.exited, api.output).toEqual({ code: 0, signal: null });
    expect(api.output).toMatch(/stopping on SIGINT/);
  }, HUB_TIMEOUT);

  it("fpr-hub worker on SIGTERM finishes the delivery in flight, records it, and exits 0", async () => {
    hub = await TestHub.start({}, undefined, { worker: false });
    receiver = await TestReceiver.start();
    receiver.respond = () => ({ status: 204, delayMs: 2_000 });
    const partner = hub.partnerKey(["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"]);
    const created = await hub.gql(
      partner.secret,
      `mutation ($url: String!) { createWebhookSubscription(url: $url, eventTypes: [CARD_ISSUED]) { subscription { id } secret } }`,
      { url: receiver.url },
    );
    expect(created.errors).toBeUndefined();
    receiver.secrets = [created.data.createWebhookSubscription.secret];
    const worker = await HubProcess.start(
      ["worker"],
      hubEnv(hub.config.dataDir, { REDIS_URL: redisUrl(), QUEUE_PREFIX: hub.config.queuePrefix, OUTBOX_POLL_MS: "100" }),
    );
    hubs.push(worker);

    const number = makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: 1 });
    const issued = await hub.gql(hub.key("ISSUER"), `mutation ($input: IssueCardInput!) { issueCard(input: $input) { number } }`, {
      input: { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "STOP, TEST" },
    });
    expect(issued.errors).toBeUndefined();
    // The attempt has reached the receiver, which answers two seconds later.
    await eventually(() => receiver!.attempts.size === 1, 30_000, "the delivery reaching the receiver");
    worker.signal("SIGTERM");
    expect(await worker.exited, worker.output).toEqual({ code: 0, signal: null });

    expect(receiver.received.map((r) => r.verified)).toEqual([true]);
    const db = hub.services.db.$client;
    expect(db.prepare("SELECT status FROM webhook_deliveries").all()).toEqual([{ status: "SUCCEEDED" }]);
    expect(db.prepare("SELECT count(*) AS n FROM owed_deliveries").get()).toEqual({ n: 0 });
  }, HUB_TIMEOUT);
});
