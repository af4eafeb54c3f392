import type { Statement } from "better-sqlite3";
import { lazyStatements, type HubDb } from "../db/client.ts";
import type { Lane } from "../events/lanes.ts";

/**
 * The delivery ledger (`owed_deliveries`): what the hub still owes, per subscription and event.
 * The one home of its SQL. Rows are written with the event's fan-out and deleted when settled;
 * every change of hand-off is conditional on the hand-off the caller saw, so two processes (two
 * workers, a worker and a reconciler) never both act on one row.
 */
export interface OwedRow {
  subscriptionId: string;
  sequence: number;
  lane: Lane;
  tries: number;
  handoff: number;
  dueAt: number;
  /** Claimed rows: the job that holds the lease. */
  leaseJob?: string | null;
}


const COLUMNS = "o.subscription_id AS subscriptionId, o.sequence, o.lane, o.tries, o.handoff, o.due_at AS dueAt";

const FREE = "(lease_until IS NULL OR lease_until < @now)";

const SQL = {
  owe: `
    INSERT INTO owed_deliveries (subscription_id, sequence, lane, due_at, created_at)
    VALUES (@subscriptionId, @sequence, @lane, @dueAt, @createdAt) ON CONFLICT DO NOTHING`,
  // A parked endpoint's new rows are handed too: the runner moves them to wait (queued 2), once.
  unqueued: `
    SELECT ${COLUMNS} FROM owed_deliveries o
    WHERE o.queued = 0 AND o.due_at <= @horizon
    ORDER BY o.due_at LIMIT @limit`,
  markQueued: "UPDATE owed_deliveries SET queued = 1 WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff AND queued = 0",
  claim: `
    UPDATE owed_deliveries SET lease_until = @leaseUntil, lease_job = @job, queued = 1
    WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff AND ${FREE}
    RETURNING subscription_id AS subscriptionId, sequence, lane, tries, handoff, due_at AS dueAt, lease_job AS leaseJob`,
  claimFanout: `
    UPDATE owed_deliveries SET lease_until = @leaseUntil, lease_job = @job, queued = 1
    WHERE sequence = @sequence AND handoff = 0 AND ${FREE}
    RETURNING subscription_id AS subscriptionId, sequence, lane, tries, handoff, due_at AS dueAt, lease_job AS leaseJob`,
  settle: "DELETE FROM owed_deliveries WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff",
  reschedule: `
    UPDATE owed_deliveries SET tries = @tries, handoff = handoff + 1, queued = 0, due_at = @dueAt, lease_until = NULL, lease_job = NULL
    WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff`,
  overdue: `
    SELECT ${COLUMNS} FROM owed_deliveries o
    WHERE o.queued = 1 AND o.due_at < @cutoff AND (o.lease_until IS NULL OR o.lease_until < @now)
      AND (o.due_at, o.subscription_id, o.sequence) > (@afterDue, @afterSubscription, @afterSequence)
    ORDER BY o.due_at, o.subscription_id, o.sequence LIMIT @limit`,
  // A leased row moved on under its holder (a replay): the holder's outcome no longer applies; it lets go, and the row is handed again.
  release: "UPDATE owed_deliveries SET lease_until = NULL, lease_job = NULL, queued = 0 WHERE subscription_id = @subscriptionId AND sequence = @sequence AND lease_job = @job",
  rehand: `
    UPDATE owed_deliveries SET handoff = handoff + 1, queued = 0, due_at = max(due_at, @now), lease_until = NULL, lease_job = NULL
    WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff AND queued = 1
      AND (lease_until IS NULL OR lease_until < @now)`,
  replay: `
    INSERT INTO owed_deliveries (subscription_id, sequence, lane, due_at, created_at, handoff)
    VALUES (@subscriptionId, @sequence, @lane, @dueAt, @createdAt, 1)
    ON CONFLICT DO UPDATE SET tries = 0, due_at = excluded.due_at, handoff = handoff + 1,
      queued = CASE WHEN lease_until IS NULL OR lease_until < @now THEN 0 ELSE queued END`,
  wait: `
    UPDATE owed_deliveries SET tries = @tries, handoff = handoff + 1, queued = @state, due_at = @dueAt, lease_until = NULL, lease_job = NULL
    WHERE subscription_id = @subscriptionId AND sequence = @sequence AND handoff = @handoff`,
  releaseParked: "UPDATE owed_deliveries SET queued = 0, due_at = @now WHERE subscription_id = @subscriptionId AND queued = 2",
  releaseBusy: "UPDATE owed_deliveries SET queued = 0, due_at = @now WHERE subscription_id = @subscriptionId AND queued = 3",
  releaseOneParked: `
    UPDATE owed_deliveries SET queued = 0, due_at = @now
    WHERE rowid = (SELECT rowid FROM owed_deliveries WHERE subscription_id = @subscriptionId AND queued = 2 ORDER BY due_at LIMIT 1)`,
  releaseOneBusy: `
    UPDATE owed_deliveries SET queued = 0, due_at = @now
    WHERE rowid = (SELECT rowid FROM owed_deliveries WHERE subscription_id = @subscriptionId AND queued = 3 ORDER BY due_at LIMIT 1)`,
  // Busy rows no finished attempt released (the worker that held the slots died): let go after a while.
  releaseStaleBusy: "UPDATE owed_deliveries SET queued = 0 WHERE queued = 3 AND due_at <= @now",
  parkedEndpoints: `
    SELECT s.id, s.status, s.failures_since_success AS failures, s.parked_until AS parkedUntil
    FROM webhook_subscriptions s
    WHERE EXISTS (SELECT 1 FROM owed_deliveries o WHERE o.subscription_id = s.id AND o.queued = 2)`,
  forget: "DELETE FROM owed_deliveries WHERE subscription_id = ?",
  counts: "SELECT subscription_id AS subscriptionId, count(*) AS owed FROM owed_deliveries GROUP BY subscription_id",
  total: "SELECT count(*) AS n FROM owed_deliveries",
  oldest: "SELECT min(created_at) AS at FROM owed_deliveries",
};

export class DeliveryLedger {
  /** Prepared on first use (lazyStatements): a database an older hub left may not have the table yet. */
  readonly #sql: (name: keyof typeof SQL) => Statement;

  constructor(db: HubDb) {
    this.#sql = lazyStatements(db, SQL);
  }

  /** The deliveries one event owes (its fan-out); a row already there is kept as it is. */
  owe(sequence: number, lane: Lane, subscriptionIds: readonly string[], now: Date): void {
    const createdAt = now.toISOString();
    for (const subscriptionId of subscriptionIds) this.#sql("owe").run({ subscriptionId, sequence, lane, dueAt: now.getTime(), createdAt });
  }

  /** Rows no job carries yet, due by `horizon`, soonest first. */
  unqueued(args: { horizon: number; limit: number }): OwedRow[] {
    return this.#sql("unqueued").all(args) as OwedRow[];
  }

  markQueued(row: Pick<OwedRow, "subscriptionId" | "sequence" | "handoff">): void {
    this.#sql("markQueued").run({ subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff });
  }

  /** Takes one row for an attempt by delivery job `job`, or undefined when the job is stale. */
  claim(ref: Pick<OwedRow, "subscriptionId" | "sequence" | "handoff">, job: string, now: number, leaseUntil: number): OwedRow | undefined {
    return this.#sql("claim").get({ ...ref, job, now, leaseUntil }) as OwedRow | undefined;
  }

  /** Takes the rows the event's fan-out job carries (hand-off 0) that nobody else holds. */
  claimFanout(sequence: number, job: string, now: number, leaseUntil: number): OwedRow[] {
    return this.#sql("claimFanout").all({ sequence, job, now, leaseUntil }) as OwedRow[];
  }

  /** The delivery is settled (succeeded, dead, or not owed): the row goes. */
  settle(row: OwedRow): void {
    if (this.#sql("settle").run({ subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff }).changes === 0) this.#release(row);
  }

  /** Next attempt at `dueAt`, after `tries` attempts in this round, by a new hand-off. */
  reschedule(row: OwedRow, tries: number, dueAt: number): void {
    if (this.#sql("reschedule").run({ subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff, tries, dueAt }).changes === 0) this.#release(row);
  }

  /**
   * The row waits for its endpoint, costing nothing meanwhile (no job, not read by the hand-off):
   * `parked` until the breaker lets a probe through or closes, `busy` until an attempt to the
   * endpoint finishes (or `releaseAt`, should no finished attempt release it).
   */
  wait(row: OwedRow, why: "parked" | "busy", releaseAt: number): void {
    const state = why === "parked" ? 2 : 3;
    const args = { subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff, tries: row.tries, state, dueAt: releaseAt };
    if (this.#sql("wait").run(args).changes === 0) this.#release(row);
  }

  /** An attempt to the endpoint finished: one busy row may go (true when one went). */
  releaseOneBusy(subscriptionId: string, now: number): boolean {
    return this.#sql("releaseOneBusy").run({ subscriptionId, now }).changes > 0;
  }

  /** The endpoint's breaker closed: everything waiting for it goes. */
  releaseAll(subscriptionId: string, now: number): number {
    return this.#sql("releaseParked").run({ subscriptionId, now }).changes + this.#sql("releaseBusy").run({ subscriptionId, now }).changes;
  }

  /**
   * The relay's pass over waiting rows: a parked endpoint whose park ended gets one row back (its
   * probe); an endpoint whose breaker closed, or that is no longer ACTIVE (its rows will settle),
   * gets all; busy rows left waiting too long go. Returns how many rows became unqueued.
   */
  releaseWaiting(now: number, breakerFailures: number): number {
    let released = this.#sql("releaseStaleBusy").run({ now }).changes;
    for (const endpoint of this.#sql("parkedEndpoints").all() as { id: string; status: string; failures: number; parkedUntil: number | null }[]) {
      if (endpoint.status !== "ACTIVE" || endpoint.failures < breakerFailures) released += this.releaseAll(endpoint.id, now);
      else if (endpoint.parkedUntil === null || endpoint.parkedUntil <= now) released += this.#sql("releaseOneParked").run({ subscriptionId: endpoint.id, now }).changes;
    }
    return released;
  }

  /** The row was replayed while this holder's attempt ran: the replay stands, the lease goes. */
  #release(row: OwedRow): void {
    if (row.leaseJob) this.#sql("release").run({ subscriptionId: row.subscriptionId, sequence: row.sequence, job: row.leaseJob });
  }

  /**
   * Queued rows whose job should have run by `cutoff` and that no worker holds, after the given
   * position (the reconciler walks them in passes, so a long backlog is checked bit by bit).
   */
  overdue(args: { cutoff: number; now: number; after: { dueAt: number; subscriptionId: string; sequence: number } | null; limit: number }): OwedRow[] {
    const after = args.after ?? { dueAt: -1, subscriptionId: "", sequence: 0 };
    return this.#sql("overdue").all({
      cutoff: args.cutoff,
      now: args.now,
      afterDue: after.dueAt,
      afterSubscription: after.subscriptionId,
      afterSequence: after.sequence,
      limit: args.limit,
    }) as OwedRow[];
  }

  /** The row's job is gone: a new hand-off takes it (true), unless something moved first. */
  rehand(row: OwedRow, now: number): boolean {
    return this.#sql("rehand").run({ subscriptionId: row.subscriptionId, sequence: row.sequence, handoff: row.handoff, now }).changes === 1;
  }

  /** A replay: each event owed again, from the first step of the schedule. */
  replay(subscriptionId: string, events: readonly { sequence: number; lane: Lane }[], now: Date): void {
    const createdAt = now.toISOString();
    for (const event of events) this.#sql("replay").run({ subscriptionId, sequence: event.sequence, lane: event.lane, dueAt: now.getTime(), createdAt, now: now.getTime() });
  }

  /** A deleted subscription is owed nothing. */
  forget(subscriptionId: string): void {
    this.#sql("forget").run(subscriptionId);
  }

  owedBySubscription(): Map<string, number> {
    return new Map((this.#sql("counts").all() as { subscriptionId: string; owed: number }[]).map((row) => [row.subscriptionId, row.owed]));
  }

  total(): number {
    return (this.#sql("total").get() as { n: number }).n;
  }

  /** When the oldest delivery still owed was written (ISO), or null. */
  oldest(): string | null {
    return (this.#sql("oldest").get() as { at: string | null }).at;
  }
}
