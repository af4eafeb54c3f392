import { afterAll, describe, expect, it } from "vitest";
import { committedEvents, deliveryProblems, hasAll, issueCards, missing, owedCount, pendingAttempts } from "../helpers/delivery-audit.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";
import { WorkerChild } from "../helpers/worker-child.ts";

/**
 * Issue 11, "the worker dies twice during the same fan-outs": the worker role runs as a child
 * process and is SIGKILLed while fan-out jobs are active and attempts are in flight, and again
 * while some of the very deliveries the first death interrupted are in flight once more. BullMQ
 * sees the stalled jobs (JOB_LOCK_MS 1 s, so quickly) and runs them again (a no-op: their rows
 * are leased) or fails them; once the leases lapse the reconciler hands the rows over again.
 * Every committed event reaches every receiver, no attempt stays PENDING, the ledger ends empty.
 *
 * Scaled down from the issue's run: 80 events, three receivers, slow enough (150 to 400 ms,
 * under the 500 ms attempt budget, so fan-out jobs stay active waiting for them) that the kills
 * land mid-flight. WEBHOOK_TIMEOUT_MS 1 s keeps the leases short (timeout + 15 s).
 */

const EVENTS = 80;
const RECEIVERS = 3;
const SETTINGS = { JOB_LOCK_MS: "1000", WEBHOOK_TIMEOUT_MS: "1000", WEBHOOK_RETRY_SCHEDULE: "100ms,200ms,400ms,800ms,1s,2s" };

describe("delivery when the worker dies twice during the same fan-outs", () => {
  let hub: TestHub | undefined;
  const workers: WorkerChild[] = [];
  const receivers: TestReceiver[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop("SIGKILL")));
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  it("delivers every committed event to every receiver and leaves no attempt open", async () => {
    hub = await TestHub.start(SETTINGS, undefined, { worker: false });
    const db = hub.services.db.$client;
    const queues = hub.runtime.queues;
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    const subscriptionIds: string[] = [];
    for (let i = 0; i < RECEIVERS; i++) {
      const receiver = await TestReceiver.start();
      receivers.push(receiver);
      const subscription = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
      receiver.secrets = [subscription.secret];
      subscriptionIds.push(subscription.id);
      receiver.respond = () => ({ status: 204, delayMs: 150 + Math.floor(Math.random() * 250) });
    }
    await issueCards(hub, hub.key("ISSUER"), 0, EVENTS);
    const committed = committedEvents(db);
    expect(committed.size).toBe(EVENTS);
    const delivered = (): number => receivers.reduce((sum, r) => sum + r.ids().size, 0);
    /** Attempts started and not finished, with the receiver they were for. */
    const openAttempts = () =>
      (db.prepare("SELECT subscription_id AS subscriptionId, event_id AS eventId FROM webhook_deliveries WHERE status = 'PENDING'").all() as { subscriptionId: string; eventId: string }[]).map(
        (row) => ({ ...row, key: `${row.subscriptionId}/${row.eventId}`, receiver: subscriptionIds.indexOf(row.subscriptionId) }),
      );
    const activeFanouts = async (): Promise<number> => (await queues.fanout.bulk.getJobCounts("active")).active;

    // First death: fan-out jobs active, attempts in flight.
    const first = await WorkerChild.start(hub, SETTINGS);
    workers.push(first);
    await eventually(async () => delivered() >= 20 && (await activeFanouts()) > 0, 30_000, "fan-outs active under the first worker");
    await first.stop("SIGKILL");
    const interrupted = openAttempts();
    expect(interrupted.length).toBeGreaterThan(0);
    expect(delivered()).toBeLessThan(EVENTS * RECEIVERS);
    const requestsAtFirst = receivers.map((r) => new Map(r.attempts));

    // Second death, during the same deliveries: once their leases lapse, the next worker sends
    // them again (the reconciler re-hands them), and dies while such an attempt is in flight.
    const second = await WorkerChild.start(hub, SETTINGS);
    workers.push(second);
    /** Deliveries the first death interrupted that were sent again and are still unanswered. */
    const retriedInFlight = () => {
      const open = new Set(openAttempts().map((a) => a.key));
      return interrupted.filter((a) => open.has(a.key) && (receivers[a.receiver]!.attempts.get(a.eventId) ?? 0) > (requestsAtFirst[a.receiver]!.get(a.eventId) ?? 0));
    };
    await eventually(() => retriedInFlight().length > 0, 40_000, "a delivery the first death interrupted in flight again");
    await second.stop("SIGKILL");
    const interruptedTwice = retriedInFlight().length;
    expect(interruptedTwice).toBeGreaterThan(0);

    // A third worker, left alone: everything arrives, once the dead workers' leases lapse.
    const third = await WorkerChild.start(hub, SETTINGS);
    workers.push(third);
    await eventually(
      () => receivers.every((r) => hasAll(r, committed.keys())) && owedCount(db) === 0 && pendingAttempts(db) === 0,
      60_000,
      "every event at every receiver, the ledger empty, no attempt open",
    ).catch((error: Error) => {
      const state = receivers.map((r, i) => `receiver ${i} misses ${missing(r, committed.keys())}`).join(", ");
      throw new Error(`${error.message}: ${state}; ${owedCount(db)} owed, ${pendingAttempts(db)} pending; worker log:\n${third.log.slice(-2000)}`);
    });

    for (const receiver of receivers) expect(deliveryProblems(receiver, committed)).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status NOT IN ('SUCCEEDED', 'FAILED')").get()).toEqual({ n: 0 });
    expect(db.prepare("SELECT count(*) AS n FROM events").get()).toEqual({ n: EVENTS });

    await third.stop("SIGTERM");
    expect(third.child.exitCode, third.log).toBe(0);
  }, 120_000);
});
