/**
 * The retry policy of webhook deliveries, in one place: which answers are retried, how long to
 * wait before each retry (the schedule, ±20 % jitter, `Retry-After` honoured within [step, 2 ×
 * step]), and when a delivery has had its last attempt. The schedule is configuration
 * (`WEBHOOK_RETRY_SCHEDULE`); the delivery ledger counts the attempts made.
 */

/** 2xx succeeds; network errors, 5xx, 408 and 429 retry; other answers (and 410) give up. */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Whether the attempt about to be made, after `triesMade` in this round, is the last one. */
export function isLastAttempt(schedule: readonly number[], triesMade: number): boolean {
  return triesMade + 1 >= schedule.length + 1;
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
