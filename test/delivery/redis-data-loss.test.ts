import { afterAll, describe, expect, it } from "vitest";
import { committedEvents, deliveryProblems, hasAll, issueCards, missing, owedCount, pendingAttempts } from "../helpers/delivery-audit.ts";
import { PrivateRedis } from "../helpers/private-redis.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";
import { WorkerChild } from "../helpers/worker-child.ts";

/**
 * Issue 11, "Redis loses its data with a backlog": a Redis without persistence is SIGKILLed while
 * fan-out jobs wait and a failing receiver's retries sit delayed in it, and comes back empty on
 * the same port. The database is the truth: the reconciler finds every delivery whose job Redis
 * lost, and every committed event reaches every receiver, the one that was failing included.
 *
 * Scaled down from the issue's run (800 events, restart after 10 s) to 320 events and 3 s, so the
 * file runs in well under a minute; the shape is the same: four receivers (two healthy, one that
 * fails every fourth event's first attempt with a Retry-After, so ~25 retries wait delayed in
 * Redis, and one failing with 503 throughout, parked by its breaker), 200 fan-outs waiting (the
 * worker frozen with SIGSTOP, its connections open), a few events committed while Redis is down,
 * the hub's connections (the api's and the frozen worker's) reconnecting by themselves.
 */

const HEALTHY = 2;
const BEFORE = 100;
const BACKLOG = 200;
const DURING_OUTAGE = 20;
/** Long enough that the failing receiver's deliveries are still owed (not DEAD) when it heals. */
const SCHEDULE = "5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s,5s";
/** The flaky receiver's Retry-After: honoured up to twice the step, so its retries wait 10 s. */
const RETRY_AFTER_S = "10";
const SETTINGS = { WEBHOOK_RETRY_SCHEDULE: SCHEDULE, WEBHOOK_TIMEOUT_MS: "2000", JOB_LOCK_MS: "1000" };

describe("delivery after Redis loses its data with a backlog", () => {
  let redis: PrivateRedis | undefined;
  let hub: TestHub | undefined;
  let worker: WorkerChild | undefined;
  const receivers: TestReceiver[] = [];

  afterAll(async () => {
    if (redis && !redis.running) await redis.start().catch(() => undefined);
    await worker?.stop("SIGKILL");
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
    await redis?.destroy();
  });

  it("delivers every committed event to every receiver after Redis restarts empty", async () => {
    redis = await PrivateRedis.start({ args: ["--appendonly", "no"] });
    hub = await TestHub.start({ REDIS_URL: redis.url, ...SETTINGS }, undefined, { worker: false });
    const db = hub.services.db.$client;
    const queues = hub.runtime.queues;

    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE);
    for (let i = 0; i < HEALTHY + 2; i++) {
      const receiver = await TestReceiver.start();
      receivers.push(receiver);
      const subscription = await subscribe(hub, partner.secret, receiver.url, ["CARD_ISSUED"]);
      receiver.secrets = [subscription.secret];
      receiver.respond = () => ({ status: 204, delayMs: Math.floor(Math.random() * 20) });
    }
    const healthy = receivers.slice(0, HEALTHY);
    const flaky = receivers[HEALTHY]!;
    const isFlakyFailure = (id: string, attempt: number) => attempt === 1 && Number(id.slice(4)) <= BEFORE && Number(id.slice(4)) % 4 === 0;
    flaky.respond = ({ id, attempt }) => (isFlakyFailure(id, attempt) ? { status: 503, headers: { "retry-after": RETRY_AFTER_S } } : { status: 204 });
    const failing = receivers[HEALTHY + 1]!;
    let healed = false;
    failing.respond = () => (healed ? { status: 204 } : { status: 503 });

    // A first batch, with the worker running: the healthy receivers take it, the failing one's
    // deliveries go to its retry path (the breaker parks it; retries are due seconds ahead).
    worker = await WorkerChild.start(hub, SETTINGS);
    const issuer = hub.key("ISSUER");
    await issueCards(hub, issuer, 0, BEFORE);
    const first = [...committedEvents(db).keys()];
    const flakyFailures = first.filter((id) => isFlakyFailure(id, 1));
    await eventually(
      () => healthy.every((r) => hasAll(r, first)) && first.every((id) => flaky.attempts.has(id)) && flaky.ids().size === first.length - flakyFailures.length,
      30_000,
      "the first batch at the healthy receivers, and first attempts at the flaky one",
    );
    expect(failing.received).toHaveLength(0);

    // The worker freezes (its sockets stay open); a backlog of fan-outs builds up in Redis.
    worker.freeze();
    await issueCards(hub, issuer, BEFORE, BACKLOG);
    // (The frozen worker may hold a few as active: jobs it took as it froze.)
    await eventually(
      async () => {
        const backlog = await queues.fanout.bulk.getJobCounts("waiting", "active");
        return backlog.waiting + backlog.active >= BACKLOG;
      },
      10_000,
      "the fan-out backlog in Redis",
    );
    // The flaky receiver's retries wait in Redis as delayed jobs (10 s, longer than the outage).
    await eventually(
      async () => {
        await hub!.runtime.relay.drain().catch(() => undefined);
        return (await queues.deliver.bulk.getDelayedCount()) >= flakyFailures.length;
      },
      10_000,
      "retries delayed in Redis",
    );

    // Redis dies without persistence; a few events commit while it is down.
    await redis.stop("SIGKILL");
    await issueCards(hub, issuer, BEFORE + BACKLOG, DURING_OUTAGE);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await redis.start();
    // It came back empty: the backlog is gone from Redis, and only the database knows it.
    await eventually(() => queues.connection.status === "ready", 20_000, "the hub's connection back");
    expect(await queues.fanout.bulk.getWaitingCount()).toBe(0);
    expect(await queues.deliver.bulk.getDelayedCount()).toBe(0);

    healed = true;
    worker.resume();
    const committed = committedEvents(db);
    expect(committed.size).toBe(BEFORE + BACKLOG + DURING_OUTAGE);
    await eventually(
      () => receivers.every((r) => hasAll(r, committed.keys())) && owedCount(db) === 0 && pendingAttempts(db) === 0,
      60_000,
      "every event at every receiver and the ledger empty",
    ).catch((error: Error) => {
      const state = receivers.map((r, i) => `receiver ${i} misses ${missing(r, committed.keys())}`).join(", ");
      throw new Error(`${error.message}: ${state}; ${owedCount(db)} owed, ${pendingAttempts(db)} pending; worker log:\n${worker!.log.slice(-2000)}`);
    });

    for (const receiver of receivers) expect(deliveryProblems(receiver, committed)).toEqual([]);
    expect(db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'DEAD'").get()).toEqual({ n: 0 });
    expect(owedCount(db)).toBe(0);
  }, 120_000);
});
