import type { Job } from "bullmq";
import type { HubDb } from "../src/db/client.ts";
import { readEvent } from "../src/events/event-log.ts";
import type { FanoutQueries } from "../src/webhooks/fanout.ts";
import { laneOf, type FanoutJob, type HubQueues } from "./queues.ts";

/** One event → one delivery job per matching subscription; ids derive from both, so reruns add nothing. */
export function createFanoutProcessor(db: HubDb, fanout: FanoutQueries, queues: HubQueues) {
  return async (job: Job<FanoutJob>): Promise<number> => {
    const event = readEvent(db, job.data.sequence);
    if (!event) return 0;
    const subscriptionIds = fanout.subscriptionsFor(event);
    const jobs = subscriptionIds.map((subscriptionId) => ({
      jobId: `dlv-${subscriptionId}-${event.sequence}`,
      data: { subscriptionId, sequence: event.sequence },
    }));
    await queues.addDeliveries(laneOf(event.type), jobs);
    return jobs.length;
  };
}
