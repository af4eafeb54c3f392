import type { Job } from "bullmq";
import { readEvent } from "../src/events/event-log.ts";
import { laneOf } from "../src/events/lanes.ts";
import type { DeliveryLedger } from "../src/webhooks/delivery-ledger.store.ts";
import type { DeliveryRunner, RunSummary } from "../src/webhooks/delivery-runner.ts";
import type { FanoutQueries } from "../src/webhooks/fanout.store.ts";
import { FANOUT_RETRIES } from "../src/webhooks/retry-policy.ts";
import type { HubDb } from "../src/db/client.ts";
import { fanoutJobData, requireHubOptions } from "./job-data.ts";
import type { FanoutJob } from "./queues.ts";

/** A fan-out job queued by a hub from before the delivery ledger (`evt-<sequence>`). */
const LEGACY_FANOUT_ID = /^evt-\d+$/;

/** A job's result as Bull Board shows it; a single skipped delivery says why. */
export function describeRun(summary: RunSummary): string {
  if (summary.claimed === 1 && summary.skipped === 1) return `skipped: ${summary.skipReasons[0]}`;
  return `${summary.claimed} owed: ${summary.sent} sent, ${summary.deferred} waiting, ${summary.skipped} not owed`;
}

/**
 * One event's first attempts: the ledger rows its fan-out wrote (hand-off 0), claimed and sent
 * concurrently by the delivery runner, which keeps slow or parked endpoints from holding up the
 * rest. A run again (a retry after a storage error, a stalled job) claims only what nobody holds.
 */
export function createFanoutProcessor(db: HubDb, ledger: DeliveryLedger, fanout: FanoutQueries, runner: DeliveryRunner, handOff: () => void, now: () => Date) {
  return async (job: Job<FanoutJob>): Promise<string> => {
    const data = fanoutJobData(job.data);
    requireHubOptions("fanout", job, FANOUT_RETRIES.attempts, FANOUT_RETRIES.backoff.type);
    if (LEGACY_FANOUT_ID.test(job.id ?? "")) {
      // Never run by the earlier hub: its deliveries are owed, and go through the ledger from here.
      const event = readEvent(db, data.sequence);
      if (!event) return "event not found";
      ledger.owe(event.sequence, laneOf(event.type), fanout.subscriptionsFor(event), now());
      handOff();
      return "moved to the delivery ledger";
    }
    return describeRun(await runner.run((lease) => ledger.claimFanout(data.sequence, lease.job, lease.now, lease.until)));
  };
}
