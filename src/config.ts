import path from "node:path";
import { readBoolean, readInt, readPort, type Env } from "./config/env-values.ts";
import { readLimits, type LimitConfig } from "./config/limit-config.ts";
import { readOps, type OpsConfig } from "./config/ops-config.ts";
import { readHubSecret, readLogLevel, readNodeEnv, readPrefix, readRedisEmbedded, readRedisUrl, type RedisEmbedded } from "./config/process-config.ts";
import { readCidrs, readWebhooks, type WebhookConfig } from "./config/webhook-config.ts";
import { readImports, readStorage, readWorker, type ImportConfig, type StorageConfig, type WorkerConfig } from "./config/worker-config.ts";

export { ConfigError } from "./config/env-values.ts";

/**
 * The only reader of process.env. Parsed and validated once; an invalid value stops the start
 * with a message naming the variable. The readers of each section live in config/.
 */
export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  /** SQLite file; `DATABASE_PATH`, default `<DATA_DIR>/fpr-hub.sqlite`. */
  databasePath: string;
  redisUrl: string | null;
  /** Where Redis comes from when `REDIS_URL` is not set (`REDIS_EMBEDDED`; see RedisEmbedded). */
  redisEmbedded: RedisEmbedded;
  /**
   * `REDIS_ALLOW_EVICTION`: accept a Redis whose maxmemory-policy is not noeviction. Without it the
   * policy is a problem (/readyz 503) and a production start refuses; with it, a warning.
   */
  redisAllowEviction: boolean;
  /** How long a stop (SIGTERM, SIGINT) may take before the process exits with work unfinished; `SHUTDOWN_GRACE_MS`, default 30 s. */
  shutdownGraceMs: number;
  /** How often Redis is checked for what BullMQ needs (and the maintenance schedules re-made); `REDIS_CHECK_MS`, default 60 s. */
  redisCheckMs: number;
  hubSecret: string | null;
  isProduction: boolean;
  webhookAllowCidrs: string[];
  demoSeed: boolean;
  /** CloudEvents `source` of this hub; `HUB_SOURCE_URI`. */
  sourceUri: string;
  /** pino log level; `LOG_LEVEL`, default info. */
  logLevel: string;
  /** BullMQ key prefix; `QUEUE_PREFIX`, default `fpr-hub`. Separate hubs sharing one Redis need their own. */
  queuePrefix: string;
  ops: OpsConfig;
  webhooks: WebhookConfig;
  limits: LimitConfig;
  worker: WorkerConfig;
  storage: StorageConfig;
  imports: ImportConfig;
}

/** Reads every setting once, in a fixed order (the first invalid value is the one reported). */
export function loadConfig(env: Env = process.env): HubConfig {
  const isProduction = readNodeEnv(env);
  const dataDir = path.resolve(env.DATA_DIR || "./data");
  const host = env.HOST || "127.0.0.1";
  const port = readPort(env);
  const redisUrl = readRedisUrl(env);
  return {
    port,
    host,
    dataDir,
    databasePath: path.resolve(env.DATABASE_PATH || path.join(dataDir, "fpr-hub.sqlite")),
    redisUrl,
    redisEmbedded: readRedisEmbedded(env, isProduction, redisUrl),
    redisAllowEviction: readBoolean(env, "REDIS_ALLOW_EVICTION", false),
    shutdownGraceMs: readInt(env, "SHUTDOWN_GRACE_MS", 30_000, 100, 3_600_000),
    redisCheckMs: readInt(env, "REDIS_CHECK_MS", 60_000, 100, 3_600_000),
    hubSecret: readHubSecret(env, isProduction),
    isProduction,
    webhookAllowCidrs: readCidrs(env),
    demoSeed: readBoolean(env, "DEMO_SEED", !isProduction),
    sourceUri: env.HUB_SOURCE_URI || `urn:fpr-hub:${host}:${port}`,
    queuePrefix: readPrefix(env),
    logLevel: readLogLevel(env),
    ops: readOps(env, port),
    webhooks: readWebhooks(env),
    limits: readLimits(env),
    worker: readWorker(env),
    storage: readStorage(env),
    imports: readImports(env),
  };
}
