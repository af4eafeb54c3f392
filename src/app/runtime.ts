import { deliverJobOptions, HubQueues, producerConnection } from "../../jobs/queues.ts";
import type { HubConfig } from "../config.ts";
import { OutboxRelay } from "../events/outbox-relay.ts";
import { LedgerDeliveryPlanner } from "../webhooks/delivery-planner.ts";
import { closeServices, createServices, type HubServices } from "./services.ts";
import { openStore, serviceSettings } from "./open-services.ts";
import { findOrStartRedis, type RedisHandle } from "../redis/find-redis.ts";
import { refuseEvictingRedis, watchRedisRequirements } from "../redis/redis-requirements.ts";
import { RedisConnectionState } from "../redis/redis-connection-state.ts";
import { routeBullmqWarnings } from "../redis/bullmq-console.ts";
import { createLogger, type Logger } from "./logger.ts";
import { HubMetrics } from "./metrics.ts";
import { HealthChecks } from "../health-checks.ts";
import { StorageHealth, watchedDirs } from "../db/storage-health.ts";
import { closeDatabase, probeWrite, type HubDb } from "../db/client.ts";
import type { Digester } from "../hub-secret.ts";
import { prepareDataDir } from "../data-dir.ts";

export type { Logger } from "./logger.ts";

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

/** Redis found or started, refused when it would evict jobs, and every Redis client's errors routed to `redisState`. */
async function openRedis(config: HubConfig, log: Logger, health: HealthChecks) {
  const redis = await findOrStartRedis({ redisUrl: config.redisUrl, embedded: config.redisEmbedded, dataDir: config.dataDir, log: (msg) => log({ level: "info", msg }) });
  if (config.isProduction && !config.redisAllowEviction) {
    await refuseEvictingRedis(redis.url).catch(async (error: unknown) => {
      await redis.stop();
      throw error;
    });
  }
  const unrouteWarnings = routeBullmqWarnings(log);
  const redisState = new RedisConnectionState(health, redis.url, log);
  return { redis, unrouteWarnings, redisState };
}

/** The producer connection (up, or given up on after a moment), its requirements watched, and the queues on it. */
async function openQueues(config: HubConfig, redis: RedisHandle, health: HealthChecks, redisState: RedisConnectionState) {
  const connection = producerConnection(redis.url);
  redisState.watch(connection, "producer connection"); // failures surface on each command; the outbox keeps events
  await waitForReady(connection, 5_000);
  const requirements = await watchRedisRequirements(connection, health, { url: redis.url, intervalMs: config.redisCheckMs, allowEviction: config.redisAllowEviction, state: redisState });
  const queues = new HubQueues(connection, config.queuePrefix, deliverJobOptions(config.webhooks.retryScheduleMs));
  return { connection, requirements, queues };
}

interface WiringParts {
  db: HubDb;
  digester: Digester;
  queues: HubQueues;
  storage: StorageHealth;
  metrics: HubMetrics;
  log: Logger;
  now?: () => Date;
}

/**
 * The services and the outbox relay, each built once with everything it needs. The relay reads
 * the services' database, so it comes after them: they are handed a kick that is bound to it
 * here and let go by `releaseKick` (at close, so a commit after close kicks nothing).
 */
function wireServices(config: HubConfig, parts: WiringParts): { services: HubServices; relay: OutboxRelay; releaseKick(): void } {
  const { db, queues, storage, metrics, log, now } = parts;
  let kicked: OutboxRelay | null = null;
  const services = createServices({
    db,
    digester: parts.digester,
    now,
    settings: serviceSettings(config, storage),
    redis: { queues, limits: config.limits },
    relay: { kick: () => kicked?.kick() },
    audit: { onRecord: (entry) => metrics.countAudited(entry) },
  });
  const relay = new OutboxRelay(db, new LedgerDeliveryPlanner(services.ledger, services.fanout), services.identity, queues, log, now, storage);
  kicked = relay;
  return { services, relay, releaseKick: () => (kicked = null) };
}

export async function openRuntime(config: HubConfig, options: { log?: Logger; now?: () => Date } = {}): Promise<HubRuntime> {
  const log = options.log ?? createLogger(config.logLevel);
  const health = new HealthChecks(log);
  prepareDataDir(config); // before Redis's folder or the database is made in it: a reason naming DATA_DIR
  const { redis, unrouteWarnings, redisState } = await openRedis(config, log, health);
  const storage = new StorageHealth(health, { dirs: watchedDirs(config), minFreeBytes: config.storage.minFreeBytes, log });
  const { db, digester } = openStore(config);
  storage.start(config.storage.checkMs, () => probeWrite(db));
  const { connection, requirements, queues } = await openQueues(config, redis, health, redisState);
  const metrics = new HubMetrics();
  const { services, relay, releaseKick } = wireServices(config, { db, digester, queues, storage, metrics, log, now: options.now });
  // Before the api takes a write: a database behind Redis's high-water mark continues after it
  // (bounded: a hung Redis delays the start by seconds, and the worker's polls check again).
  await Promise.race([relay.drain().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
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
      releaseKick();
      requirements.close();
      await services.enumeration?.close();
      storage.close();
      closeServices(services);
      await queues.close().catch(() => undefined);
      connection.disconnect();
      closeDatabase(db);
      await redis.stop();
      unrouteWarnings();
    },
  };
}
