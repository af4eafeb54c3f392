/**
 * Deliveries across storage trouble. While the database refuses writes (SQLite's own read-only
 * refusal, a transient storage error like a full disk), workers cannot claim or record anything:
 * no attempt is spent, the process stays up, /readyz says so. Once writes work again, every owed
 * delivery goes out with its first attempt, and the ledger ends empty.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "../../jobs/worker.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

const EVENTS = 12;

describe("deliveries while storage refuses writes", () => {
  let hub: TestHub | undefined;
  let worker: WorkerHandle | undefined;
  const receivers: TestReceiver[] = [];
  afterAll(async () => {
    hub?.services.db.$client.pragma("query_only = OFF");
    await worker?.close();
    await hub?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("spends no attempt, keeps running, says not ready, and delivers everything once writes work again", async () => {
    // The api alone first: events commit and their deliveries are owed, with no worker to take them.
    hub = await TestHub.start({ STORAGE_CHECK_MS: "200" }, undefined, { worker: false });
    const db = hub.services.db.$client;
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    for (let i = 0; i < 2; i += 1) {
      const receiver = await TestReceiver.start();
      receivers.push(receiver);
      receiver.secrets.push((await subscribe(hub, partner, receiver.url, ["CARD_ISSUED"])).secret);
    }
    const issuer = hub.key("ISSUER");
    for (let i = 0; i < EVENTS; i += 1) await issue(hub, issuer, v2023(900 + i));
    const owed = () => (db.prepare("SELECT count(*) AS n FROM owed_deliveries").get() as { n: number }).n;
    await eventually(() => owed() === EVENTS * 2, 10_000, "the deliveries owed");

    // Storage refuses every write; then a worker starts on the backlog.
    db.pragma("query_only = ON");
    worker = await startWorker(hub.runtime);
    const readyz = async () => (await fetch(`${hub!.api.url}/readyz`)).json() as Promise<{ status: string; problems?: string[] }>;
    await eventually(async () => (await readyz()).problems?.includes("storage-unavailable") ?? false, 15_000, "/readyz reporting the storage trouble");
    expect(await readyz()).toMatchObject({ status: "not ready" });
    // Nothing was sent, nothing was spent, the process answers.
    expect(receivers.map((r) => r.received.length)).toEqual([0, 0]);
    expect(db.prepare("SELECT count(*) AS n FROM webhook_deliveries").get()).toEqual({ n: 0 });
    expect(owed()).toBe(EVENTS * 2);
    expect((await fetch(`${hub.api.url}/healthz`)).status).toBe(200);

    // Writes work again: everything goes, each with its first attempt.
    db.pragma("query_only = OFF");
    const ids = new Set((db.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((row) => `evt_${row.sequence}`));
    for (const receiver of receivers) await receiver.waitFor(() => [...ids].every((id) => receiver.ids().has(id)), 60_000);
    await eventually(() => owed() === 0, 20_000, "the ledger empty");
    const attempts = db.prepare("SELECT attempt, status, count(*) AS n FROM webhook_deliveries GROUP BY attempt, status").all();
    expect(attempts).toEqual([{ attempt: 1, status: "SUCCEEDED", n: EVENTS * 2 }]);
    await eventually(async () => (await readyz()).status === "ready", 15_000, "/readyz ready again");
  }, 120_000);
});
