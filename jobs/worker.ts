import { Queue, Worker, type Job, type Processor } from "bullmq";
import type { Redis } from "ioredis";
import { expireDueCards } from "../src/cards/card-expiry.ts";
import type { HubRuntime } from "../src/runtime.ts";
import { DeliveryAttempts } from "../src/webhooks/delivery-attempt.ts";
import { closePinnedAgents } from "../src/webhooks/pinned-post.ts";
import { createDeliverProcessor, retryDelay } from "./deliver-processor.ts";
import { createFanoutProcessor } from "./fanout-processor.ts";
import { createImportProcessor } from "./import-processor.ts";
import { sweepImportFiles } from "../src/imports/import-sweep.ts";
import { QUEUE_NAMES, workerConnection, type DeliverJob } from "./queues.ts";

/**
 * First attempts of one event in flight at once: every subscriber of a revocation should hear of
 * it together, not in waves (at most 64 connections per receiver origin still apply).
 */
const FIRST_ATTEMPTS_PER_EVENT = 128;

export interface WorkerHandle {
  close(): Promise<void>;
}

/**
 * The worker role: drains the outbox, fans events out, delivers webhooks (urgent lane first, with
 * its own workers), sweeps expired cards and purges audit records past retention. close() lets in-flight attempts finish; anything
 * not finished is retried by another worker once its lock lapses.
 */
export async function startWorker(runtime: HubRuntime): Promise<WorkerHandle> {
  const { config, services, queues, relay, log } = runtime;
  const connection: Redis = workerConnection(runtime.redis.url);
  connection.on("error", () => undefined);
  const prefix = config.queuePrefix;
  const policy = { requireHttps: config.isProduction, allowCidrs: config.webhookAllowCidrs };
  const attempts = new DeliveryAttempts(services.db, services.subscriptions, policy, { sourceUri: config.sourceUri, ...config.webhooks });
  attempts.onAttempt = (status, latencyMs) => {
    runtime.metrics.deliveries.inc({ outcome: status });
    if (latencyMs !== null) runtime.metrics.deliveryLatency.observe(Math.max(0, latencyMs) / 1000);
  };
  const schedule = config.webhooks.retryScheduleMs;
  const common = { connection, prefix, lockDuration: config.worker.lockMs, stalledInterval: Math.max(1000, config.worker.lockMs) };
  const worker = <T>(name: string, processor: Processor<T>, concurrency: number) => {
    const backoffStrategy = (made: number, _type?: string, err?: Error, job?: { data: unknown }) =>
      retryDelay(schedule, made + ((job?.data as DeliverJob | undefined)?.priorAttempts ?? 0), err);
    const w = new Worker<T>(name, processor, { ...common, concurrency, settings: { backoffStrategy } });
    w.on("error", (error) => log({ level: "warn", msg: "worker error", queue: name, error: String(error) }));
    return w;
  };
  const fanout = createFanoutProcessor(services.db, services.fanout, queues, attempts, { retryScheduleMs: schedule, concurrency: FIRST_ATTEMPTS_PER_EVENT });
  const deliver = createDeliverProcessor(attempts);
  const maintenanceQueue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
  maintenanceQueue.on("error", (error) => log({ level: "warn", msg: "queue error", queue: QUEUE_NAMES.maintenance, error: String(error) }));
  maintenanceQueue.waitUntilReady().catch(() => undefined);
  const sweepImports = () => sweepImportFiles(config.dataDir, queues.imports);
  const maintenance = async (job: Job) =>
    job.name === "audit.purge" ? services.audit.purge(config.limits.auditRetentionDays) : job.name === "imports.sweep" ? sweepImports() : expireDueCards(services.register);
  const workers = [
    worker(QUEUE_NAMES.fanout.urgent, fanout, 4),
    worker(QUEUE_NAMES.fanout.bulk, fanout, 4),
    worker(QUEUE_NAMES.deliver.urgent, deliver, config.worker.concurrency),
    worker(QUEUE_NAMES.deliver.bulk, deliver, config.worker.concurrency),
    worker(QUEUE_NAMES.maintenance, maintenance, 1),
    worker(QUEUE_NAMES.imports, createImportProcessor(services.register, config.dataDir, services.apiKeys, sweepImports), 1),
    worker(QUEUE_NAMES.conformance, async (job: Job<{ runId: string }>) => (await services.conformance.run(job.data.runId)).state, 2),
  ];
  await maintenanceQueue.upsertJobScheduler("cards.expire-sweep", { every: config.worker.expirySweepMs }, { name: "cards.expire-sweep" });
  await maintenanceQueue.upsertJobScheduler("audit.purge", { every: 6 * 3600 * 1000 }, { name: "audit.purge" });
  // Uploads whose job was removed before it ran, rejects files whose job has expired.
  await maintenanceQueue.upsertJobScheduler("imports.sweep", { every: 3600 * 1000 }, { name: "imports.sweep" });
  const poll = setInterval(() => relay.drain().catch(() => undefined), config.worker.outboxPollMs);
  relay.kick();
  return {
    async close() {
      clearInterval(poll);
      // A graceful close waits for Redis; while it is unreachable, stop at once (jobs in flight
      // are retried by another worker once their locks lapse).
      const force = connection.status !== "ready";
      await Promise.all(workers.map((w) => w.close(force)));
      await maintenanceQueue.close();
      connection.disconnect();
      closePinnedAgents();
    },
  };
}
