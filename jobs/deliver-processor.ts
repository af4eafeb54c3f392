import { UnrecoverableError, type Job } from "bullmq";
import type { Logger } from "../src/app/logger.ts";
import type { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import type { DeliveryLedger } from "../src/webhooks/delivery-ledger.store.ts";
import type { DeliveryRunner } from "../src/webhooks/delivery-runner.ts";
import type { TestEventRequests } from "../src/webhooks/test-event-requests.ts";
import { describeRun } from "./fanout-processor.ts";
import { DELIVERY_BACKOFF, isLastJobAttempt, maxTestEventJobAttempts, RetryableDeliveryError } from "../src/webhooks/retry-policy.ts";
import { deliverJobData, InvalidJobData, requireHubOptions } from "./job-data.ts";
import type { DeliverJob } from "./queues.ts";

export interface DeliverDeps {
  attempts: DeliveryAttempts;
  ledger: DeliveryLedger;
  runner: DeliveryRunner;
  testEvents: TestEventRequests;
  /** The retry schedule: it bounds a test event job's attempts (event deliveries count theirs in the ledger). */
  retryScheduleMs: readonly number[];
  handOff: () => void;
  log?: Logger;
  now?: () => Date;
}

/**
 * Thin. An event delivery carries one ledger row's hand-off: it claims the row (a stale job, whose
 * row has moved on or is held by another worker, does nothing) and the runner attempts it. A test
 * event (no ledger row: it was never committed) is checked against its open request and retried
 * by BullMQ on the schedule. A skipped delivery says why in its result and in the log.
 */
export function createDeliverProcessor(deps: DeliverDeps) {
  const { attempts, ledger, runner, testEvents, handOff, log = () => {}, now = () => new Date() } = deps;
  const maxAttempts = maxTestEventJobAttempts(deps.retryScheduleMs);
  return async (job: Job<DeliverJob>): Promise<string> => {
    const data = deliverJobData(job.data);
    requireHubOptions("deliver", job, maxAttempts, DELIVERY_BACKOFF);
    if (data.sequence !== null) {
      const sequence = data.sequence;
      if (data.handoff === undefined) {
        // Queued by a hub from before the delivery ledger: owed from here on, through the ledger,
        // if the subscription (as its key now stands) still receives the event.
        const ready = attempts.prepareAttempt({ subscriptionId: data.subscriptionId, sequence });
        if (ready.kind === "skipped") {
          log({ level: "info", msg: "delivery skipped", jobId: job.id, subscriptionId: data.subscriptionId, sequence, reason: ready.reason });
          return `skipped: ${ready.reason}`;
        }
        ledger.replay(data.subscriptionId, [{ sequence, lane: job.queueName.endsWith("urgent") ? "urgent" : "bulk" }], now());
        handOff();
        return "moved to the delivery ledger";
      }
      const ref = { subscriptionId: data.subscriptionId, sequence, handoff: data.handoff };
      const summary = await runner.run((lease) => {
        const row = ledger.claim(ref, lease.job, lease.now, lease.until);
        return row ? [row] : [];
      });
      if (summary.skipped > 0) {
        log({ level: "info", msg: "delivery skipped", jobId: job.id, subscriptionId: data.subscriptionId, sequence, reason: summary.skipReasons[0] });
      }
      return summary.claimed === 0 ? "stale: the ledger has moved on" : describeRun(summary);
    }
    if (!testEvents.isOpen(data.subscriptionId, data.testEventId!, data.testTime!)) {
      throw new InvalidJobData("deliver", "no open test event request matches it");
    }
    const outcome = await attempts.attempt(data, isLastJobAttempt(job.attemptsMade, job.opts.attempts));
    if (outcome.kind === "retry") throw new RetryableDeliveryError(outcome.error, outcome.retryAfterMs);
    if (outcome.kind === "give-up") throw new UnrecoverableError(outcome.error);
    if (outcome.kind === "skipped") {
      log({ level: "info", msg: "delivery skipped", jobId: job.id, subscriptionId: data.subscriptionId, sequence: data.sequence, reason: outcome.reason });
      return `skipped: ${outcome.reason}`;
    }
    return "delivered";
  };
}
