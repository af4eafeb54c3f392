import type { Processor } from "bullmq";
import type { HubRuntime } from "../src/app/runtime.ts";
import { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import { DeliveryRunner } from "../src/webhooks/delivery-runner.ts";
import { EndpointBreaker } from "../src/webhooks/endpoint-breaker.ts";
import { TestEventRequests } from "../src/webhooks/test-event-requests.ts";
import { createDeliverProcessor } from "./deliver-processor.ts";
import { createFanoutProcessor } from "./fanout-processor.ts";
import { createImportProcessor } from "./import-processor.ts";
import { sweepImportFiles } from "../src/imports/import-sweep.ts";
import { QUEUE_NAMES, type QueueName } from "./queues.ts";
import { createConformanceProcessor, createMaintenanceProcessor } from "./upkeep-processors.ts";

/** Attempts in flight in one worker process, over all endpoints. */
const MAX_IN_FLIGHT = 1024;

/** The delivery service the worker's processors share, counting every attempt in the metrics. */
function deliveryAttempts(runtime: HubRuntime): DeliveryAttempts {
  const { config, services, metrics } = runtime;
  const policy = { requireHttps: config.isProduction, allowCidrs: config.webhookAllowCidrs };
  const counted = (status: "SUCCEEDED" | "FAILED" | "DEAD", latencyMs: number | null) => {
    metrics.deliveries.inc({ outcome: status });
    if (latencyMs !== null) metrics.deliveryLatency.observe(Math.max(0, latencyMs) / 1000);
  };
  return new DeliveryAttempts(services.db, services.subscriptions, policy, { sourceUri: config.sourceUri, ...config.webhooks }, runtime.now, counted);
}

/** The runner that keeps endpoints from holding each other up (webhooks/delivery-runner.ts). */
function deliveryRunner(runtime: HubRuntime, attempts: DeliveryAttempts): DeliveryRunner {
  const { config, services, relay, log } = runtime;
  const webhooks = config.webhooks;
  const breaker = new EndpointBreaker(services.db, { baseMs: webhooks.breakerMs, maxMs: webhooks.breakerMaxMs, probeHoldMs: webhooks.timeoutMs + 5000 });
  return new DeliveryRunner(
    services.db,
    services.ledger,
    attempts,
    breaker,
    { retryScheduleMs: webhooks.retryScheduleMs, timeoutMs: webhooks.timeoutMs, budgetMs: webhooks.budgetMs, perEndpoint: webhooks.maxInFlightPerEndpoint, maxInFlight: MAX_IN_FLIGHT },
    {
      rescheduled: () => relay.kick(),
      log,
      storage: (error) =>
        error === null ? runtime.storage.recordStorageOk("deliveries") : runtime.storage.recordStorageError("deliveries", error, { pending: "deliveries stay owed" }),
    },
    () => runtime.now().getTime(),
  );
}

/** Every queue's processor, as the worker runs them; each checks its job's data first (job-data.ts). */
export function createProcessors(runtime: HubRuntime): { processors: Record<QueueName, Processor>; runner: DeliveryRunner } {
  const { config, services, queues, relay } = runtime;
  const attempts = deliveryAttempts(runtime);
  const deliveries = deliveryRunner(runtime, attempts);
  const handOff = () => relay.kick();
  const fanout = createFanoutProcessor(services.db, services.ledger, services.fanout, deliveries, handOff, runtime.now);
  const sweepImports = () => sweepImportFiles(config.dataDir, queues.imports);
  const deliver = createDeliverProcessor({ attempts, ledger: services.ledger, runner: deliveries, testEvents: new TestEventRequests(services.db), retryScheduleMs: config.webhooks.retryScheduleMs, handOff, log: runtime.log, now: runtime.now });
  return {
    runner: deliveries,
    processors: {
      [QUEUE_NAMES.fanout.urgent]: fanout,
      [QUEUE_NAMES.fanout.bulk]: fanout,
      [QUEUE_NAMES.deliver.urgent]: deliver,
      [QUEUE_NAMES.deliver.bulk]: deliver,
      [QUEUE_NAMES.maintenance]: createMaintenanceProcessor(services, config.limits.auditRetentionDays, sweepImports),
      // The import processor checks its data itself (job-data.ts, then the id against the job's own).
      [QUEUE_NAMES.imports]: createImportProcessor(services.register, config.dataDir, services.apiKeys, sweepImports),
      [QUEUE_NAMES.conformance]: createConformanceProcessor(services.conformance),
    },
  };
}
