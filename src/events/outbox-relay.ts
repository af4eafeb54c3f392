import type { HubQueues, LedgerRef } from "../../jobs/queues.ts";
import { inTransaction, type HubDb } from "../db/client.ts";
import { isTransientStorageError, NO_STORAGE_REPORTER, type StorageReporter } from "../db/storage-errors.ts";
import type { DatabaseIdentity } from "./database-identity.ts";
import { markDispatched, undispatchedEvents } from "./event-log.store.ts";
import type { Lane } from "./lanes.ts";

/** A committed event still in the outbox, as the relay hands it to the planner. */
export interface OutboxEvent {
  sequence: number;
  type: string;
  cardNumber: string;
  holderId: number;
}

/** An owed delivery no job carries yet: the hand-off a job will carry, its lane and when it is due (ms). */
export interface PlannedDelivery extends LedgerRef {
  lane: Lane;
  dueAt: number;
}

/**
 * What the relay asks of whoever owes the deliveries (webhooks/, wired in app/): events/ stands
 * below webhooks/, so it knows neither subscriptions nor the ledger, only these steps.
 */
export interface DeliveryPlanner {
  /** Step 1, inside the relay's transaction: writes the deliveries one event owes. */
  plan(event: OutboxEvent, now: Date): void;
  /** Before a hand-off: lets go of deliveries held back that may be sent again at `now` (ms). */
  release(now: number): void;
  /** Owed deliveries no job carries yet, due by `horizon` (ms), soonest first. */
  unqueued(args: { horizon: number; limit: number }): PlannedDelivery[];
  /** Records that a job now carries the delivery (in the relay's transaction). */
  markQueued(row: LedgerRef): void;
}

const BATCH = 500;
/** Rows due within this long are handed to Redis (as delayed jobs); later ones wait in the database. */
const HANDOFF_HORIZON_MS = 60_000;

/** Sets the high-water mark to ARGV[1] unless the mark is higher: then returns the mark (the database is behind). */
const HIGH_WATER = `
local mark = tonumber(redis.call('GET', KEYS[1]) or '0')
local mine = tonumber(ARGV[1])
if mine < mark then return mark end
if mine > mark then redis.call('SET', KEYS[1], ARGV[1]) end
return -1`;

/**
 * The outbox relay, in three steps:
 * 1. fan-out (database only): each committed event's deliveries are written to the ledger, one
 *    row per subscription that receives it (the planner's part), and the event is marked
 *    dispatched, in one transaction. Nothing here needs Redis, so a Redis outage holds nothing back but the sending.
 * 2. the high-water mark (Redis): if this database stands below what Redis has seen (a restore,
 *    a new database), its next events continue after the mark (database-identity.ts).
 * 3. hand-off (Redis): ledger rows no job carries, due within the horizon, become jobs. A failed
 *    hand-off leaves them unqueued for the next pass; rows whose job Redis lost are found by the
 *    reconciler (jobs/delivery-reconciler.ts) and come back here.
 * Runs in every process that commits events (the api, the worker, the CLI leaves it to them).
 */
export class OutboxRelay {
  #running: Promise<number> | null = null;
  #queued: Promise<number> | null = null;
  #lastError = 0;
  #storageFailing = false;

  constructor(
    private readonly db: HubDb,
    private readonly planner: DeliveryPlanner,
    private readonly identity: DatabaseIdentity,
    private readonly queues: HubQueues,
    private readonly log: (entry: Record<string, unknown>) => void,
    private readonly now: () => Date = () => new Date(),
    private readonly storage: StorageReporter = NO_STORAGE_REPORTER,
  ) {}

  /** Starts a drain soon, after the caller's transaction has surely committed; never throws. */
  kick(): void {
    setImmediate(() => {
      this.drain().catch(() => undefined);
    });
  }

  /**
   * Runs the three steps. A call while a run is going waits for one more run after it (shared by
   * everyone who asks meanwhile), so what was committed before the call is surely handed over.
   * Returns how many rows that run handed over.
   */
  drain(): Promise<number> {
    if (!this.#running) {
      this.#running = this.#drainAll().finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    this.#queued ??= this.#running
      .catch(() => 0)
      .then(() => {
        this.#queued = null;
        return this.drain();
      });
    return this.#queued;
  }

  /** Step 1 alone (no Redis): how many events were fanned out into the ledger. */
  fanOut(): number {
    let done = 0;
    for (;;) {
      const batch = undispatchedEvents(this.db, BATCH);
      if (batch.length === 0) return done;
      const now = this.now();
      inTransaction(this.db, () => {
        for (const event of batch) this.planner.plan(event, now);
        markDispatched(this.db, batch.map((event) => event.sequence), now.toISOString());
      });
      done += batch.length;
    }
  }

  async #drainAll(): Promise<number> {
    try {
      try {
        this.fanOut();
        this.planner.release(this.now().getTime());
        if (this.#storageFailing) this.storage.recordStorageOk("outbox relay");
        this.#storageFailing = false;
      } catch (error) {
        if (isTransientStorageError(error)) {
          this.#storageFailing = true;
          this.storage.recordStorageError("outbox relay", error, { pending: "events stay in the outbox" });
        }
        throw error;
      }
      await this.#checkHighWater();
      return await this.#handOff();
    } catch (error) {
      // Redis (or the database) is unavailable: everything stays in the database for the next pass.
      if (Date.now() - this.#lastError > 10_000) {
        this.#lastError = Date.now();
        this.log({ level: "warn", msg: "outbox relay pass failed; events and deliveries stay in the database", error: String(error) });
      }
      throw error;
    }
  }

  async #checkHighWater(): Promise<void> {
    const key = `${this.queues.prefix}:events:high-water`;
    const mine = this.identity.highestSequence();
    const mark = Number(await this.queues.connection.eval(HIGH_WATER, 1, key, String(mine)));
    if (mark < 0) return;
    if (!this.identity.continueAfter(mark)) return; // a sibling process on this database raised the mark
    this.log({
      level: "warn",
      msg: "this database is behind the event ids Redis has seen (restored from a backup, or new); its next events continue after them, under a new database identity",
      highestSequence: mine,
      highWaterMark: mark,
    });
    await this.queues.connection.eval(HIGH_WATER, 1, key, String(this.identity.highestSequence()));
  }

  async #handOff(): Promise<number> {
    const databaseId = this.identity.id;
    let handed = 0;
    for (;;) {
      const now = this.now().getTime();
      const rows = this.planner.unqueued({ horizon: now + HANDOFF_HORIZON_MS, limit: BATCH });
      if (rows.length === 0) return handed;
      const byLane: Record<Lane, (LedgerRef & { delay: number })[]> = { urgent: [], bulk: [] };
      for (const row of rows) byLane[row.lane].push({ ...row, delay: row.dueAt - now });
      for (const lane of ["urgent", "bulk"] as const) await this.queues.addLedgerJobs(databaseId, lane, byLane[lane]);
      inTransaction(this.db, () => {
        for (const row of rows) this.planner.markQueued(row);
      });
      handed += rows.length;
    }
  }
}
