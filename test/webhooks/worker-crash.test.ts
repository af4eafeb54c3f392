import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { makeV2023Number } from "../../src/cards/card-number-generator.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { redisUrl } from "../helpers/redis.ts";
import { TEST_SECRET, TestHub } from "../helpers/temp-hub.ts";

/**
 * At-least-once delivery survives a worker that dies mid-fan-out: the api runs in this process,
 * the worker role (`fpr-hub worker`) in a child that is SIGKILLed while deliveries are in flight.
 * A fresh worker picks up the stalled jobs once their locks lapse, and every subscriber ends up
 * with every committed event (duplicates allowed, nothing unknown), each verified.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CARDS = 60;
const RECEIVERS = 3;
const LOCK_MS = "1000";

const ISSUE = `mutation ($input: IssueCardInput!) { issueCard(input: $input) { number state } }`;
const SUBSCRIBE = `mutation ($url: String!, $types: [EventType!]!) { createWebhookSubscription(url: $url, eventTypes: $types) { subscription { id } secret } }`;
const ALL_TYPES = ["CARD_ISSUED", "CARD_SUPERSEDED", "CARD_REPORTED_LOST", "CARD_REVOKED", "CARD_EXPIRED", "HOLDER_STATUS_CHANGED"];

/** `fpr-hub worker` as a child process, sharing the hub's data directory, Redis and queue prefix. */
class WorkerChild {
  private output = "";

  private constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => void (this.output = (this.output + chunk.toString("utf8")).slice(-4000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", () => undefined);
  }

  static async start(hub: TestHub): Promise<WorkerChild> {
    const child = spawn(process.execPath, ["bin/fpr-hub.js", "worker"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DATA_DIR: hub.config.dataDir,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: hub.config.queuePrefix,
        HUB_SECRET: TEST_SECRET,
        WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8",
        WEBHOOK_RETRY_SCHEDULE: "50ms,100ms,200ms",
        JOB_LOCK_MS: LOCK_MS,
        OUTBOX_POLL_MS: "100",
        DEMO_SEED: "off",
        NODE_ENV: "test",
      },
    });
    const worker = new WorkerChild(child);
    await eventually(
      () => {
        if (worker.exited) throw new Error(`the worker exited at start (${child.exitCode ?? child.signalCode}): ${worker.output}`);
        return worker.output.includes("fpr-hub worker running");
      },
      20_000,
      "the worker child starting",
    ).catch(async (error: unknown) => {
      await worker.stop("SIGKILL"); // never leave a half-started child behind
      throw error;
    });
    return worker;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get log(): string {
    return this.output;
  }

  /** Sends the signal and waits for the exit (SIGKILL after 10 s). */
  async stop(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

describe("webhook delivery across a worker crash", () => {
  let hub: TestHub | undefined;
  const workers: WorkerChild[] = [];
  const receivers: TestReceiver[] = [];
  const killAll = (): void => {
    for (const w of workers) if (!w.exited) w.child.kill("SIGKILL");
  };
  process.on("exit", killAll);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    process.off("exit", killAll);
    await Promise.all(receivers.map((r) => r.close()));
    if (hub) {
      await hub.close();
      fs.rmSync(hub.config.dataDir, { recursive: true, force: true });
    }
  });

  it("delivers every committed event to every subscriber after the worker is killed mid-fan-out", async () => {
    hub = await TestHub.start({ JOB_LOCK_MS: LOCK_MS, WEBHOOK_RETRY_SCHEDULE: "50ms,100ms,200ms" }, undefined, { worker: false });
    const db = hub.services.db.$client;

    const partner = hub.partnerKey(["CARDS_CHECK", "EVENTS_ALL", "WEBHOOKS_MANAGE"]);
    const subscriptionIds: string[] = [];
    for (let i = 0; i < RECEIVERS; i++) {
      const receiver = await TestReceiver.start();
      receivers.push(receiver);
      receiver.respond = () => ({ status: 204, delayMs: 100 + Math.floor(Math.random() * 100) });
      const created = await hub.gql(partner.secret, SUBSCRIBE, { url: receiver.url, types: ALL_TYPES });
      expect(created.errors).toBeUndefined();
      receiver.secrets = [created.data.createWebhookSubscription.secret];
      subscriptionIds.push(created.data.createWebhookSubscription.subscription.id);
    }

    // The events commit (and the api's relay hands them to BullMQ) before any worker runs.
    const issuer = hub.key("ISSUER");
    for (let i = 0; i < CARDS; i++) {
      const number = makeV2023Number({ provinceCode: "11", nationalityNumeric: "124", birthDate: "1981-08-03", sequence: i });
      const answer = await hub.gql(issuer, ISSUE, { input: { number, validFrom: "2024-01-01", validUntil: "2033-12-31", englishName: "CRASH, TEST" } });
      expect(answer.errors, `issueCard ${number}`).toBeUndefined();
    }
    const committed = new Set((db.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((row) => `evt_${row.sequence}`));
    expect(committed.size).toBe(CARDS);
    const total = CARDS * RECEIVERS;
    const distinctDelivered = (): number => receivers.reduce((sum, r) => sum + r.ids().size, 0);

    // First worker: killed without warning once some, but not all, deliveries have arrived.
    const first = await WorkerChild.start(hub);
    workers.push(first);
    await eventually(() => distinctDelivered() >= 30 || first.exited, 30_000, "the first deliveries");
    expect(first.exited, first.log).toBe(false);
    await first.stop("SIGKILL");
    // Let requests the dead worker had already written reach the receivers before taking stock.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const atKill = distinctDelivered();
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(total);
    const requestsAtKill = receivers.map((r) => new Map(r.attempts));
    // Attempts the dead worker had started but not finished: their jobs must be run again.
    const openAtKill = db.prepare("SELECT subscription_id AS subscriptionId, event_id AS eventId FROM webhook_deliveries WHERE status = 'PENDING'").all() as {
      subscriptionId: string;
      eventId: string;
    }[];
    expect(openAtKill.length).toBeGreaterThan(0);

    // A fresh worker delivers the rest and, once the dead worker's locks lapse, its stalled jobs.
    const second = await WorkerChild.start(hub);
    workers.push(second);
    const pending = (): number => (db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'PENDING'").get() as { n: number }).n;
    await eventually(
      () => pending() === 0 && receivers.every((r) => [...committed].every((id) => r.ids().has(id))),
      40_000,
      "every receiver having every event and no attempt left open",
    ).catch((error: Error) => {
      const state = `delivered ${atKill}/${total} at the kill, ${distinctDelivered()}/${total} now, ${pending()} attempts open`;
      throw new Error(`${error.message} (${state}); worker log:\n${second.log.slice(-1500)}`);
    });

    for (const receiver of receivers) {
      expect(receiver.ids()).toEqual(committed); // duplicates allowed (deduped on webhook-id), nothing unknown
      expect(receiver.received.filter((r) => !r.verified).map((r) => r.id)).toEqual([]);
      for (const r of receiver.received) expect(r.event.id).toBe(r.id);
    }
    // Every attempt left open by the dead worker was made again after the crash.
    const notRetried = openAtKill.filter(({ subscriptionId, eventId }) => {
      const i = subscriptionIds.indexOf(subscriptionId);
      return (receivers[i]!.attempts.get(eventId) ?? 0) <= (requestsAtKill[i]!.get(eventId) ?? 0);
    });
    expect(notRetried).toEqual([]);

    // The delivery log agrees: a succeeded attempt for every subscription and event.
    for (const subscriptionId of subscriptionIds) {
      const succeeded = db
        .prepare("SELECT DISTINCT event_id AS id FROM webhook_deliveries WHERE subscription_id = ? AND status = 'SUCCEEDED'")
        .all(subscriptionId) as { id: string }[];
      expect(new Set(succeeded.map((row) => row.id))).toEqual(committed);
    }
    expect((db.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n).toBe(CARDS);

    await second.stop("SIGTERM");
    expect(second.child.exitCode, second.log).toBe(0);
  }, 90_000);
});
