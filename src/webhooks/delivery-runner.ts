import crypto from "node:crypto";
import { inTransaction, type HubDb } from "../db/client.ts";
import type { AttemptOutcome, DeliveryAttempts, MessageCache, SendOutcome, StartedAttempt } from "./delivery-attempt.ts";
import type { DeliveryLedger, OwedRow } from "./delivery-ledger.store.ts";
import { BREAKER_FAILURES, breakerState, type EndpointBreaker } from "./endpoint-breaker.ts";
import { isLastAttempt, retryDelay } from "./retry-policy.ts";

/**
 * Runs the attempts of claimed ledger rows so that no endpoint holds up another:
 * - at most `perEndpoint` attempts in flight per endpoint in this process, `maxInFlight` in all;
 *   a row over either bound waits in the ledger (a new hand-off, no attempt spent);
 * - a parked endpoint (its breaker open) gets nothing but its one probe;
 * - the job that carried the rows waits for their answers at most `budgetMs`, and not at all for
 *   an endpoint that was slow last time: a slow attempt finishes on its own, under its lease, and
 *   records its outcome then. A worker that dies meanwhile leaves the lease to lapse, and the
 *   reconciler hands the row over again.
 * Every outcome lands in the ledger: settled (succeeded, dead, not owed) or rescheduled on the
 * retry policy. A storage error while recording leaves the row leased, to be handed over again
 * once the lease lapses; it never spends an attempt and never escapes as an exception.
 */
/** When rows waiting for a parked endpoint go back anyway (the relay releases the probe long before). */
const PARKED_RELEASE_MS = 3_600_000;
/** When rows waiting for a free slot go back, should no finished attempt release them (its worker died). */
const BUSY_RELEASE_MS = 30_000;

export interface RunnerSettings {
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  budgetMs: number;
  perEndpoint: number;
  maxInFlight: number;
}

export interface RunSummary {
  claimed: number;
  sent: number;
  skipped: number;
  deferred: number;
  /** Why rows were not owed after all (the subscription paused, deleted, no longer entitled). */
  skipReasons: string[];
}

/** How long a claimed row stays leased: the attempt's timeout, and time to record it. */
function leaseMs(timeoutMs: number): number {
  return timeoutMs + 15_000;
}

export class DeliveryRunner {
  readonly #perEndpoint = new Map<string, number>();
  #inFlight = 0;
  readonly #running = new Set<Promise<void>>();
  /** Endpoints whose last attempt outlasted the budget: jobs do not wait for them. */
  readonly #slow = new Set<string>();

  constructor(
    private readonly db: HubDb,
    private readonly ledger: DeliveryLedger,
    private readonly attempts: DeliveryAttempts,
    private readonly breaker: EndpointBreaker,
    private readonly settings: RunnerSettings,
    private readonly hooks: {
      /** Rows went back to the ledger to be handed over again (the relay hands them). */
      rescheduled: () => void;
      log: (entry: Record<string, unknown>) => void;
      /** A write failed (storage trouble) or succeeded again. */
      storage?: (error: unknown | null) => void;
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** Attempts in flight in this process. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Claims rows (in the same transaction as the attempts' start, so a failure leaves them free)
   * and starts their attempts. Resolves when the awaited attempts have answered or the budget
   * has passed; throws only when nothing was started (the claim or the start failed).
   */
  async run(claim: (lease: { job: string; now: number; until: number }) => OwedRow[]): Promise<RunSummary> {
    const now = this.now();
    const lease = { job: crypto.randomUUID(), now, until: now + leaseMs(this.settings.timeoutMs) };
    const summary: RunSummary = { claimed: 0, sent: 0, skipped: 0, deferred: 0, skipReasons: [] };
    const started: { row: OwedRow; attempt: StartedAttempt }[] = [];
    const messages: MessageCache = new Map();
    try {
      inTransaction(this.db, () => {
        const rows = claim(lease);
        summary.claimed = rows.length;
        const planned = new Map<string, number>();
        for (const row of rows) {
          const ready = this.attempts.prepareAttempt({ subscriptionId: row.subscriptionId, sequence: row.sequence }, messages);
          if (ready.kind === "skipped") {
            this.ledger.settle(row);
            summary.skipped++;
            if (!summary.skipReasons.includes(ready.reason)) summary.skipReasons.push(ready.reason);
            continue;
          }
          const endpoint = row.subscriptionId;
          const wait = this.waitFor(endpoint, ready.subscription, (planned.get(endpoint) ?? 0) + (this.#perEndpoint.get(endpoint) ?? 0), started.length, now);
          if (wait !== null) {
            this.ledger.wait(row, wait.why, wait.releaseAt);
            summary.deferred++;
            continue;
          }
          planned.set(endpoint, (planned.get(endpoint) ?? 0) + 1);
          started.push({ row, attempt: this.attempts.start(ready) });
        }
      });
    } catch (error) {
      // Nothing was claimed or started (the transaction rolled back): the job fails and is retried.
      this.#storage(error);
      throw error;
    }
    this.#storage(null);
    if (summary.deferred > 0) this.hooks.rescheduled();
    const awaited: Promise<void>[] = [];
    const unanswered = new Map<string, number>();
    for (const { row, attempt } of started) {
      const endpoint = row.subscriptionId;
      this.#inFlight++;
      this.#perEndpoint.set(endpoint, (this.#perEndpoint.get(endpoint) ?? 0) + 1);
      const sentAt = this.now();
      const done: Promise<void> = this.attempts
        .send(attempt)
        .then((outcome) => this.#record(row, attempt, outcome, this.now() - sentAt))
        .finally(() => {
          const waiting = (unanswered.get(endpoint) ?? 1) - 1;
          if (waiting > 0) unanswered.set(endpoint, waiting);
          else unanswered.delete(endpoint);
          this.#inFlight--;
          const left = (this.#perEndpoint.get(endpoint) ?? 1) - 1;
          if (left > 0) this.#perEndpoint.set(endpoint, left);
          else this.#perEndpoint.delete(endpoint);
          this.#running.delete(done);
        });
      this.#running.add(done);
      unanswered.set(endpoint, (unanswered.get(endpoint) ?? 0) + 1);
      if (!this.#slow.has(endpoint)) awaited.push(done);
      summary.sent++;
    }
    if (awaited.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.settings.budgetMs)));
      await Promise.race([Promise.all(awaited), budget]);
      clearTimeout(timer);
      // Whoever has not answered within the budget is slow from now on: later jobs do not wait for it.
      for (const endpoint of unanswered.keys()) this.#slow.add(endpoint);
    }
    return summary;
  }

  /** Waits for every attempt in flight in this process (a worker closing). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Whether a ready row must wait for its endpoint instead of being attempted now, and for what;
   * null when it may go. `inFlight` counts the endpoint's attempts running and planned in this run.
   * Waiting rows cost nothing until released: a parked endpoint's by the relay (one probe when the
   * park ends, all once the breaker closes), a busy endpoint's one per finished attempt to it.
   */
  private waitFor(
    endpoint: string,
    subscription: { failuresSinceSuccess: number; parkedUntil: number | null },
    inFlight: number,
    planned: number,
    now: number,
  ): { why: "parked" | "busy"; releaseAt: number } | null {
    const state = breakerState({ failures: subscription.failuresSinceSuccess, parkedUntil: subscription.parkedUntil }, now);
    if (state === "PARKED") return { why: "parked", releaseAt: now + PARKED_RELEASE_MS };
    // Another attempt is the probe: wait for its verdict.
    if (state === "PROBING" && (inFlight > 0 || !this.breaker.takeProbe(endpoint, now))) return { why: "parked", releaseAt: now + PARKED_RELEASE_MS };
    if (inFlight >= this.settings.perEndpoint || this.#inFlight + planned >= this.settings.maxInFlight) {
      return { why: "busy", releaseAt: now + BUSY_RELEASE_MS };
    }
    return null;
  }

  /** Records an attempt's outcome in the ledger, in one transaction; never throws. */
  async #record(row: OwedRow, attempt: StartedAttempt, outcome: SendOutcome, latencyMs: number): Promise<void> {
    const endpoint = row.subscriptionId;
    if (latencyMs > this.settings.budgetMs) this.#slow.add(endpoint);
    else this.#slow.delete(endpoint);
    const schedule = this.settings.retryScheduleMs;
    try {
      let rescheduled = false;
      let released = 0;
      inTransaction(this.db, () => {
        const result: AttemptOutcome = this.attempts.complete(attempt, outcome, isLastAttempt(schedule, row.tries));
        const now = this.now();
        // A probe's success closes the breaker: what waited for it goes; any answer frees a slot.
        if (result.kind === "succeeded" && attempt.subscription.failuresSinceSuccess >= BREAKER_FAILURES) released += this.ledger.releaseAll(endpoint, now);
        else if (this.ledger.releaseOneBusy(endpoint, now)) released++;
        if (result.kind === "retry") {
          const now = this.now();
          const parkedUntil = this.breaker.afterFailure(endpoint, now);
          const due = now + retryDelay(schedule, row.tries + 1, result);
          this.ledger.reschedule(row, row.tries + 1, Math.max(due, parkedUntil ?? 0));
          rescheduled = true;
        } else {
          if (result.kind === "give-up") this.breaker.afterFailure(endpoint, this.now());
          this.ledger.settle(row);
        }
      });
      this.#storage(null);
      // Retries and released rows wait in the ledger for the relay to hand them over.
      if (rescheduled || released > 0) this.hooks.rescheduled();
    } catch (error) {
      this.#storage(error);
      this.hooks.log({ level: "warn", msg: "could not record a delivery attempt; the delivery is handed over again once its lease lapses", subscriptionId: endpoint, sequence: row.sequence, error: String(error) });
    }
  }

  #storageFailing = false;

  /** Tells the storage monitor of a failed write, and of the first success after one. */
  #storage(error: unknown | null): void {
    if (error === null && !this.#storageFailing) return;
    this.#storageFailing = error !== null;
    this.hooks.storage?.(error);
  }
}
