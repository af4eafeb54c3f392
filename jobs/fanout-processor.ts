import type { Job } from "bullmq";
import type { HubDb } from "../src/db/client.ts";
import { readEvent } from "../src/events/event-log.ts";
import type { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import type { FanoutQueries } from "../src/webhooks/fanout.ts";
import { retryDelay } from "./deliver-processor.ts";
import { fanoutJobData, requireHubOptions } from "./job-data.ts";
import { FANOUT_RETRIES, laneOf, type FanoutJob, type HubQueues } from "./queues.ts";

export interface FanoutSettings {
  /** The retry schedule: its length is the number of retries after the first attempt. */
  retryScheduleMs: readonly number[];
  /** First attempts of one event in flight at once. */
  concurrency: number;
}

/**
 * One event → its first attempt to every matching subscription, sent from here concurrently;
 * only failures become delivery jobs (the retries, on the schedule). Retry job ids derive from
 * subscription and event, so a fan-out run again after a crash queues nothing twice.
 */
export function createFanoutProcessor(db: HubDb, fanout: FanoutQueries, queues: HubQueues, attempts: DeliveryAttempts, settings: FanoutSettings) {
  return async (job: Job<FanoutJob>): Promise<string> => {
    const data = fanoutJobData(job.data);
    requireHubOptions("fanout", job, FANOUT_RETRIES.attempts, FANOUT_RETRIES.backoff.type);
    const event = readEvent(db, data.sequence);
    if (!event) return "event not found";
    const subscriptionIds = fanout.subscriptionsFor(event);
    const isLast = settings.retryScheduleMs.length === 0;
    const outcomes = await attempts.firstAttempts(event.sequence, subscriptionIds, isLast, settings.concurrency);
    const retries = [...outcomes]
      .filter(([, outcome]) => outcome.kind === "retry")
      .map(([subscriptionId, outcome]) => ({
        jobId: `dlv-${subscriptionId}-${event.sequence}`,
        data: { subscriptionId, sequence: event.sequence, priorAttempts: 1 },
        delay: retryDelay(settings.retryScheduleMs, 1, outcome),
      }));
    await queues.addDeliveries(laneOf(event.type), retries);
    const delivered = [...outcomes.values()].filter((outcome) => outcome.kind === "succeeded").length;
    return `${subscriptionIds.length} subscriptions: ${delivered} delivered, ${retries.length} to retry`;
  };
}
