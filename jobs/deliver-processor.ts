import { UnrecoverableError, type Job } from "bullmq";
import type { Logger } from "../src/http/logger.ts";
import type { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import type { TestEventRequests } from "../src/webhooks/test-event-requests.ts";
import { deliverJobData, InvalidJobData, requireHubOptions } from "./job-data.ts";
import { DELIVERY_BACKOFF } from "./queues.ts";
import type { DeliverJob } from "./queues.ts";

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
 * The retry delay after `attemptsMade` attempts: the schedule's step ±20 % jitter; a Retry-After
 * (from a RetryableDeliveryError, or an outcome carrying retryAfterMs) honoured within [step, 2 × step].
 */
export function retryDelay(schedule: readonly number[], attemptsMade: number, error: unknown, random = Math.random): number {
  const base = schedule[Math.min(attemptsMade, schedule.length) - 1] ?? schedule[schedule.length - 1];
  const retryAfterMs = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  if (typeof retryAfterMs === "number") {
    return Math.min(Math.max(retryAfterMs, base), 2 * base);
  }
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Thin: checks the job (its data, and that a test event was really requested and is still open),
 * makes one attempt through the delivery service, then retries or gives up by outcome. A skipped
 * job (nothing sent: the subscription is gone, paused, or does not receive the event) says why in
 * its result and in the log.
 */
export function createDeliverProcessor(attempts: DeliveryAttempts, testEvents: TestEventRequests, maxAttempts: number, log: Logger = () => {}) {
  return async (job: Job<DeliverJob>): Promise<string> => {
    const data = deliverJobData(job.data);
    requireHubOptions("deliver", job, maxAttempts, DELIVERY_BACKOFF);
    if (data.sequence === null && !testEvents.isOpen(data.subscriptionId, data.testEventId!, data.testTime!)) {
      throw new InvalidJobData("deliver", "no open test event request matches it");
    }
    const isLast = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await attempts.attempt(data, isLast);
    if (outcome.kind === "retry") throw new RetryableDeliveryError(outcome.error, outcome.retryAfterMs);
    if (outcome.kind === "give-up") throw new UnrecoverableError(outcome.error);
    if (outcome.kind === "skipped") {
      log({ level: "info", msg: "delivery skipped", jobId: job.id, subscriptionId: data.subscriptionId, sequence: data.sequence, reason: outcome.reason });
      return `skipped: ${outcome.reason}`;
    }
    return "delivered";
  };
}
