/**
 * The retry policy, in one place: which answers are retried, how many attempts a delivery gets,
 * how long to wait before each retry (the schedule, ±20 % jitter, `Retry-After` honoured within
 * [step, 2 × step]), when an attempt is the last, and how BullMQ retries the hub's jobs. The
 * schedule is configuration (`WEBHOOK_RETRY_SCHEDULE`). Event deliveries count their attempts in
 * the delivery ledger, test events in their BullMQ job; every rule below serves both.
 */

/** 2xx succeeds. */
export function isSuccess(status: number | null): boolean {
  return status !== null && status >= 200 && status < 300;
}

/** Network errors, 5xx, 408 and 429 retry; other answers (and 410) give up. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * How an attempt leaves its delivery: SUCCEEDED on a 2xx; FAILED (to be retried) on a network
 * error or a retryable answer, unless it was the last attempt; else DEAD. A URL the policy refused
 * before sending is not retried.
 */
export function attemptStatus(answer: { status: number | null; refused: boolean }, isLast: boolean): "SUCCEEDED" | "FAILED" | "DEAD" {
  if (isSuccess(answer.status)) return "SUCCEEDED";
  const retryable = answer.status === null ? !answer.refused : isRetryable(answer.status);
  return retryable && !isLast ? "FAILED" : "DEAD";
}

/** Attempts a delivery gets: the first, and one per step of the schedule. */
export function attemptsAllowed(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/** Whether the attempt about to be made, after `triesMade` in this round, is the last one (ledger rows). */
export function isLastAttempt(schedule: readonly number[], triesMade: number): boolean {
  return triesMade + 1 >= attemptsAllowed(schedule);
}

/** Whether a test event job's attempt is its last: BullMQ counts `attemptsMade` of the job's `attempts`. */
export function isLastJobAttempt(attemptsMade: number, attempts: number | undefined): boolean {
  return attemptsMade + 1 >= (attempts ?? 1);
}

/** A failed attempt that should be retried, carrying the receiver's Retry-After if it sent one. */
export class RetryableDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/**
 * The delay before the next attempt after `attemptsMade` attempts: the schedule's step ±20 %
 * jitter; a Retry-After (an error or outcome carrying `retryAfterMs`) honoured within [step, 2 × step].
 */
export function retryDelay(schedule: readonly number[], attemptsMade: number, error: unknown, random = Math.random): number {
  const base = schedule[Math.min(attemptsMade, schedule.length) - 1] ?? schedule[schedule.length - 1];
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfterMs === "number") {
    return Math.min(Math.max(retryAfterMs, base), 2 * base);
  }
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The `Retry-After` header as milliseconds from `now`, or null. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

// How BullMQ retries jobs (jobs/queues.ts builds every job's options from these).

/** The worker's backoff strategy for test event jobs: `retryDelay` over the schedule. */
export const DELIVERY_BACKOFF = "hub-schedule";

/** A fan-out that failed (Redis or the database briefly unavailable) runs again; reruns skip what was delivered. */
export const FANOUT_RETRIES = { attempts: 8, backoff: { type: "exponential", delay: 1000 } } as const;

/**
 * Jobs BullMQ runs once: a ledger row's delivery job (the ledger counts and schedules its retries),
 * an import and a conformance probe (a failed one is reported, not repeated).
 */
export const RUN_ONCE = { attempts: 1 } as const;

/** A test event job's attempts: the schedule's, less those a job it replaces already made (at least one). */
export function testEventJobAttempts(attempts: number, priorAttempts: number): number {
  return Math.max(1, attempts - priorAttempts);
}

/** Attempts a test event job may carry whatever the schedule now is (the default schedule makes 11). */
const MAX_TEST_EVENT_JOB_ATTEMPTS = 32;

/**
 * The most attempts a test event job may carry; more means a forged job. Jobs queued under a
 * longer schedule (before a restart with a shorter one) must still run: the bound is against
 * forged jobs, not against the operator's earlier settings.
 */
export function maxTestEventJobAttempts(schedule: readonly number[]): number {
  return Math.max(attemptsAllowed(schedule), MAX_TEST_EVENT_JOB_ATTEMPTS);
}
