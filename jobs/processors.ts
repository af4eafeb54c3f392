import type { Processor } from "bullmq";
import type { HubRuntime } from "../src/runtime.ts";
import { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import { TestEventRequests } from "../src/webhooks/test-event-requests.ts";
import { createDeliverProcessor } from "./deliver-processor.ts";
import { createFanoutProcessor } from "./fanout-processor.ts";
import { createImportProcessor } from "./import-processor.ts";
import { sweepImportFiles } from "../src/imports/import-sweep.ts";
import { QUEUE_NAMES } from "./queues.ts";
import { createConformanceProcessor, createMaintenanceProcessor } from "./upkeep-processors.ts";

/**
 * First attempts of one event in flight at once: every subscriber of a revocation should hear of
 * it together, not in waves (at most 64 connections per receiver origin still apply).
 */
const FIRST_ATTEMPTS_PER_EVENT = 128;

/** Attempts a delivery job may carry whatever the schedule now is (the default schedule makes 11). */
const MAX_DELIVERY_ATTEMPTS = 32;

export type WorkerQueueName =
  | (typeof QUEUE_NAMES.fanout)[keyof typeof QUEUE_NAMES.fanout]
  | (typeof QUEUE_NAMES.deliver)[keyof typeof QUEUE_NAMES.deliver]
  | typeof QUEUE_NAMES.maintenance
  | typeof QUEUE_NAMES.imports
  | typeof QUEUE_NAMES.conformance;

/** The delivery service the worker's processors share, counting every attempt in the metrics. */
function deliveryAttempts(runtime: HubRuntime): DeliveryAttempts {
  const { config, services } = runtime;
  const policy = { requireHttps: config.isProduction, allowCidrs: config.webhookAllowCidrs };
  const attempts = new DeliveryAttempts(services.db, services.subscriptions, policy, { sourceUri: config.sourceUri, ...config.webhooks });
  attempts.onAttempt = (status, latencyMs) => {
    runtime.metrics.deliveries.inc({ outcome: status });
    if (latencyMs !== null) runtime.metrics.deliveryLatency.observe(Math.max(0, latencyMs) / 1000);
  };
  return attempts;
}

/** Every queue's processor, as the worker runs them; each checks its job's data first (job-data.ts). */
export function createProcessors(runtime: HubRuntime): Record<WorkerQueueName, Processor> {
  const { config, services, queues } = runtime;
  const attempts = deliveryAttempts(runtime);
  const fanout = createFanoutProcessor(services.db, services.fanout, queues, attempts, {
    retryScheduleMs: config.webhooks.retryScheduleMs,
    concurrency: FIRST_ATTEMPTS_PER_EVENT,
  });
  const sweepImports = () => sweepImportFiles(config.dataDir, queues.imports);
    // Jobs queued under a longer schedule (before a restart with a shorter one) must still run: the
  // bound is against forged jobs, not against the operator's earlier settings.
  const maxAttempts = Math.max(config.webhooks.retryScheduleMs.length + 1, MAX_DELIVERY_ATTEMPTS);
  const deliver = createDeliverProcessor(attempts, new TestEventRequests(services.db), maxAttempts, runtime.log);
  return {
    [QUEUE_NAMES.fanout.urgent]: fanout,
    [QUEUE_NAMES.fanout.bulk]: fanout,
    [QUEUE_NAMES.deliver.urgent]: deliver,
    [QUEUE_NAMES.deliver.bulk]: deliver,
    [QUEUE_NAMES.maintenance]: createMaintenanceProcessor(services, config.limits.auditRetentionDays, sweepImports),
    // The import processor checks its data itself (job-data.ts, then the id against the job's own).
    [QUEUE_NAMES.imports]: createImportProcessor(services.register, config.dataDir, services.apiKeys, sweepImports),
    [QUEUE_NAMES.conformance]: createConformanceProcessor(services.conformance),
  };
}
