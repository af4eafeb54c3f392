import { Worker, type Processor } from "bullmq";
import type { Redis } from "ioredis";
import type { HubRuntime } from "../src/app/runtime.ts";
import { closePinnedAgents } from "../src/webhooks/pinned-post.ts";
import { retryDelay } from "../src/webhooks/retry-policy.ts";
import { DeliveryReconciler } from "./delivery-reconciler.ts";
import { priorAttemptsOf } from "./job-data.ts";
import { keepMaintenanceSchedules } from "./maintenance-schedules.ts";
import { createProcessors } from "./processors.ts";
import { HUB_QUEUES, openQueue, QUEUE_NAMES, workerConnection, type QueueName } from "./queues.ts";

export interface WorkerHandle {
  close(): Promise<void>;
}

/** Jobs each queue runs at once in one worker process; deliveries take WORKER_CONCURRENCY. */
function workerConcurrency(deliveries: number): Record<QueueName, number> {
  return {
    [QUEUE_NAMES.fanout.urgent]: 8,
    [QUEUE_NAMES.fanout.bulk]: 8,
    [QUEUE_NAMES.deliver.urgent]: deliveries,
    [QUEUE_NAMES.deliver.bulk]: deliveries,
    [QUEUE_NAMES.imports]: 1,
    [QUEUE_NAMES.conformance]: 2,
    [QUEUE_NAMES.maintenance]: 1,
  };
}

/**
 * The worker role: drains the outbox, fans events out, delivers webhooks (urgent lane first, with
 * its own workers), sweeps expired cards and purges audit records past retention. close() lets in-flight attempts finish; anything
 * not finished is retried by another worker once its lock lapses.
 */
export async function startWorker(runtime: HubRuntime): Promise<WorkerHandle> {
  const { config, relay, log, redisState } = runtime;
  const connection: Redis = workerConnection(runtime.redis.url);
  redisState.watch(connection, "worker connection");
  const prefix = config.queuePrefix;
  const schedule = config.webhooks.retryScheduleMs;
  // A job stalled twice is failed by BullMQ; the reconciler then hands its deliveries over again.
  const common = { connection, prefix, lockDuration: config.worker.lockMs, stalledInterval: Math.max(1000, config.worker.lockMs), maxStalledCount: 2 };
  const worker = <T>(name: string, processor: Processor<T>, concurrency: number) => {
    const backoffStrategy = (made: number, _type?: string, err?: Error, job?: { data: unknown }) =>
      retryDelay(schedule, made + priorAttemptsOf(job?.data), err);
    const w = new Worker<T>(name, processor, { ...common, concurrency, settings: { backoffStrategy } });
    w.on("error", (error) => redisState.error(`worker ${name}`, error));
    return w;
  };
  const { processors, runner } = createProcessors(runtime);
  const reconciler = new DeliveryReconciler(runtime.services.ledger, runtime.services.identity, runtime.queues, { intervalMs: config.worker.reconcileMs, graceMs: config.worker.graceMs }, () => relay.kick(), log, () => runtime.now().getTime());
  // On the worker's own connection (it queues commands while Redis is away): the schedules are
  // ensured the moment that connection is ready again (jobs/maintenance-schedules.ts).
  const maintenanceQueue = openQueue(QUEUE_NAMES.maintenance, connection, prefix, (error) => redisState.error(`queue ${QUEUE_NAMES.maintenance}`, error));
  const concurrency = workerConcurrency(config.worker.concurrency);
  const workers = HUB_QUEUES.map((name) => worker(name, processors[name], concurrency[name]));
  const schedules = await keepMaintenanceSchedules(maintenanceQueue, connection, config, log);
  const poll = setInterval(() => void relay.drain().catch(() => undefined), config.worker.outboxPollMs);
  relay.kick();
  reconciler.start();
  return {
    async close() {
      clearInterval(poll);
      schedules.close();
      await reconciler.stop();
      // A graceful close waits for Redis; while it is unreachable, stop at once (jobs in flight
      // are retried by another worker once their locks lapse).
      const force = connection.status !== "ready";
      await Promise.all(workers.map((w) => w.close(force)));
      // Attempts that outlasted their job's budget finish and record their outcome.
      await runner.drain();
      await maintenanceQueue.close();
      connection.disconnect();
      closePinnedAgents();
    },
  };
}
