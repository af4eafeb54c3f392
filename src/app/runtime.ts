import { deliverJobOptions, HubQueues, producerConnection } from "../../jobs/queues.ts";
import type { HubConfig } from "../config.ts";
import { OutboxRelay } from "../events/outbox-relay.ts";
import { LedgerDeliveryPlanner } from "../webhooks/delivery-planner.ts";
import { closeServices, type HubServices } from "./services.ts";
import { openServices } from "./open-services.ts";
import { EnumerationGuard } from "../partners/enumeration-guard.ts";
import { RateLimits } from "../partners/rate-limits.ts";
import { findOrStartRedis, type RedisHandle } from "../redis/find-redis.ts";
import { refuseEvictingRedis, watchRedisRequirements } from "../redis/redis-requirements.ts";
import { RedisConnectionState } from "../redis/redis-connection-state.ts";
import { routeBullmqWarnings } from "../redis/bullmq-console.ts";
import { createLogger, type Logger } from "./logger.ts";
import { HubMetrics } from "./metrics.ts";
import { HealthChecks } from "../health-checks.ts";
import { StorageHealth, watchedDirs } from "../db/storage-health.ts";
import { probeWrite } from "../db/client.ts";
import { prepareDataDir } from "../data-dir.ts";

export type { Logger } from "./logger.ts";
export { openServices };


/** What the api and worker roles share: services, Redis, the queues and the outbox relay. */
export interface HubRuntime {
  config: HubConfig;
  services: HubServices;
  redis: RedisHandle;
  queues: HubQueues;
  relay: OutboxRelay;
  log: Logger;
  metrics: HubMetrics;
  /** What is wrong right now, as /readyz reports it. */
  health: HealthChecks;
  /** Whether Redis answers: every Redis client's `error` events go here (one log line per outage). */
  redisState: RedisConnectionState;
  /** Storage trouble and free space, reported into `health`. */
  storage: StorageHealth;
  /** The hub's clock (tests move it); everything that compares stored times uses this one. */
  now: () => Date;
  close(): Promise<void>;
}

/** Redis answered a moment ago: wait (briefly) until the producer connection is up before queues use it. */
function waitForReady(connection: ReturnType<typeof producerConnection>, timeoutMs: number): Promise<void> {
  if (connection.status === "ready") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    connection.once("ready", done);
  });
}

export async function openRuntime(config: HubConfig, options: { log?: Logger; now?: () => Date } = {}): Promise<HubRuntime> {
  const log = options.log ?? createLogger(config.logLevel);
  const health = new HealthChecks(log);
  prepareDataDir(config); // before Redis's folder or the database is made in it: a reason naming DATA_DIR
  const redis = await findOrStartRedis({ redisUrl: config.redisUrl, embedded: config.redisEmbedded, dataDir: config.dataDir, log: (msg) => log({ level: "info", msg }) });
  if (config.isProduction && !config.redisAllowEviction) {
    await refuseEvictingRedis(redis.url).catch(async (error: unknown) => {
      await redis.stop();
      throw error;
    });
  }
  const unrouteWarnings = routeBullmqWarnings(log);
  const redisState = new RedisConnectionState(health, redis.url, log);
  const storage = new StorageHealth(health, { dirs: watchedDirs(config), minFreeBytes: config.storage.minFreeBytes, log });
  const services = openServices(config, options.now, storage);
  storage.start(config.storage.checkMs, () => probeWrite(services.db));
  const connection = producerConnection(redis.url);
  redisState.watch(connection, "producer connection"); // failures surface on each command; the outbox keeps events
  await waitForReady(connection, 5_000);
  const requirements = await watchRedisRequirements(connection, health, { url: redis.url, intervalMs: config.redisCheckMs, allowEviction: config.redisAllowEviction, state: redisState });
  const queues = new HubQueues(connection, config.queuePrefix, deliverJobOptions(config.webhooks.retryScheduleMs));
  services.queues = queues;
  services.limits = new RateLimits(connection, config.queuePrefix, config.limits);
  const { enumerationPerStem: perStem, enumerationWindowSeconds } = config.limits;
  services.enumeration = new EnumerationGuard(connection, config.queuePrefix, { perStem, windowMs: enumerationWindowSeconds * 1000 }, services.audit);
  const relay = new OutboxRelay(services.db, new LedgerDeliveryPlanner(services.ledger, services.fanout), services.identity, queues, log, options.now, storage);
  services.register.afterEventsCommitted = () => relay.kick();
  services.dispatch.onOwed = () => relay.kick();
  // Before the api takes a write: a database behind Redis's high-water mark continues after it
  // (bounded: a hung Redis delays the start by seconds, and the worker's polls check again).
  await Promise.race([relay.drain().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  const metrics = new HubMetrics();
  services.audit.onRecord = (entry) => {
    if (entry.kind === "CHECK") metrics.checks.inc({ version: entry.version ?? "NONE", result: entry.result });
    else if (entry.kind === "VERIFY") metrics.verifications.inc({ result: entry.result });
  };
  return {
    config,
    services,
    redis,
    queues,
    relay,
    log,
    metrics,
    health,
    redisState,
    storage,
    now: options.now ?? (() => new Date()),
    async close() {
      services.register.afterEventsCommitted = null;
      requirements.close();
      await services.enumeration?.close();
      storage.close();
      closeServices(services);
      await queues.close().catch(() => undefined);
      connection.disconnect();
      services.db.$client.close();
      await redis.stop();
      unrouteWarnings();
    },
  };
}
