import path from "node:path";

/**
 * The only reader of process.env. Parsed and validated once; an invalid value stops the start
 * with a message naming the variable.
 */
export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  /** SQLite file; `DATABASE_PATH`, default `<DATA_DIR>/fpr-hub.sqlite`. */
  databasePath: string;
  redisUrl: string | null;
  /**
   * Where Redis comes from when `REDIS_URL` is not set (`REDIS_EMBEDDED`): `find` (the default in
   * development and test: a server on 127.0.0.1:6379 if one answers, else a private redis-server
   * child), `private` (`REDIS_EMBEDDED=1`: always the hub's own redis-server under DATA_DIR/redis,
   * never someone else's on 6379; the explicit opt-in in production), `off` (the default in
   * production, `REDIS_EMBEDDED=0`: REDIS_URL is required).
   */
  redisEmbedded: "find" | "private" | "off";
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
  ops: {
    /** `OPS_PORT`: a second listener for /metrics, /healthz, /readyz; null (default) for none. */
    port: number | null;
    /** `OPS_HOST`, default loopback: operations figures are not for every interface HOST may open. */
    host: string;
    /** `METRICS_TOKEN`: when set, /metrics answers only `Authorization: Bearer <token>`. */
    metricsToken: string | null;
  };
  webhooks: {
    /** Delays before each retry; `WEBHOOK_RETRY_SCHEDULE`, e.g. `5s,30s,2m`. */
    retryScheduleMs: number[];
    /** Per-attempt timeout; `WEBHOOK_TIMEOUT_MS`, default 10 s. */
    timeoutMs: number;
    /** A subscription with no success for this long and at least 20 failed attempts is disabled. */
    disableAfterMs: number;
    disableAfterFailures: number;
    /** How long a job waits for an attempt's answer before leaving it to finish alone; `WEBHOOK_ATTEMPT_BUDGET_MS`, default 500. */
    budgetMs: number;
    /** Attempts in flight per endpoint per worker process; `WEBHOOK_MAX_IN_FLIGHT`, default 16. */
    maxInFlightPerEndpoint: number;
    /** An endpoint's first park after repeated failures; `WEBHOOK_BREAKER_MS`, default 30 s (doubling, up to `WEBHOOK_BREAKER_MAX_MS`, 1 h). */
    breakerMs: number;
    breakerMaxMs: number;
  };
  limits: {
    /** Card checks per minute per key, by role (a batch counts each number); `RATE_LIMIT_CHECKS`. */
    checksPerMinute: Record<string, number>;
    /** Verifications per minute per key, by role; `RATE_LIMIT_VERIFICATIONS`. */
    verificationsPerMinute: Record<string, number>;
    /**
     * After this many NO_MATCH answers for one number by one key, or by all keys of one partner
     * together, one attempt per `verifySlowSeconds`. A MATCH does not clear earlier misses.
     */
    verifySlowAfter: number;
    verifySlowSeconds: number;
    /** After this many, the number is blocked for that key (or partner) for `verifyBlockSeconds` after the last miss allowed. */
    verifyBlockAfter: number;
    verifyBlockSeconds: number;
    /**
     * Enumeration guard: distinct numbers one partner (or a key without partner) may check per
     * stem (V2023 positions 1-14: province, nationality, birth date; V2017: nationality, province,
     * birth date) per window; more are RATE_LIMITED and audited. `ENUMERATION_LIMIT`, default 20;
     * `ENUMERATION_WINDOW_SECONDS`, default 3600. Legitimate traffic rarely checks two holders who
     * share a birth date, nationality and province; guessing a holder's new number does.
     */
    enumerationPerStem: number;
    enumerationWindowSeconds: number;
    /** Audit records are kept this long; `AUDIT_RETENTION_DAYS`, default 180. */
    auditRetentionDays: number;
  };
  worker: {
    /** Delivery jobs run at once per lane; `WORKER_CONCURRENCY`, default 32. */
    concurrency: number;
    /** How often the worker looks for events not yet handed to the queue; `OUTBOX_POLL_MS`. */
    outboxPollMs: number;
    /** How often cards past validUntil are marked EXPIRED; `EXPIRY_SWEEP_MS`, default 1 h. */
    expirySweepMs: number;
    /** Job lock; a job whose worker died is retried after it lapses; `JOB_LOCK_MS`, default 30 s. */
    lockMs: number;
    /** How often the reconciler looks for deliveries whose job Redis lost; `DELIVERY_RECONCILE_MS`, default 10 s. */
    reconcileMs: number;
    /** A queued delivery overdue by this long is checked against Redis; `DELIVERY_GRACE_MS`, default 30 s. */
    graceMs: number;
  };
  storage: {
    /** Under this many free bytes in DATA_DIR, /readyz warns `storage-low`; `STORAGE_MIN_FREE_BYTES`, default 64 MiB, 0 for no check. */
    minFreeBytes: number;
    /** How often free space is measured; `STORAGE_CHECK_MS`, default 5 s. */
    checkMs: number;
  };
  imports: {
    /** Largest upload `POST /imports` accepts, in bytes; `IMPORT_MAX_BYTES`, default 1 GiB. */
    maxUploadBytes: number;
    /** Imports uploading, waiting or running at once per issuer key; `IMPORT_MAX_PER_KEY`, default 2. */
    maxPerKey: number;
  };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function readPort(env: Env, name = "PORT", fallback = "4000"): number {
  const raw = env[name] ?? fallback;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new ConfigError(`${name} must be a whole number from 0 to 65535, got "${raw}"`);
  }
  return port;
}

function readOps(env: Env, port: number): HubConfig["ops"] {
  const opsPort = env.OPS_PORT === undefined || env.OPS_PORT === "" ? null : readPort(env, "OPS_PORT");
  if (opsPort !== null && opsPort !== 0 && opsPort === port) throw new ConfigError(`OPS_PORT must differ from PORT, got "${env.OPS_PORT}"`);
  const token = env.METRICS_TOKEN;
  if (token !== undefined && token !== "" && !/^[A-Za-z0-9._~+/=-]{16,256}$/.test(token)) {
    throw new ConfigError("METRICS_TOKEN must be 16 to 256 characters of letters, digits and ._~+/=-");
  }
  return { port: opsPort, host: env.OPS_HOST || "127.0.0.1", metricsToken: token || null };
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw.toLowerCase();
  if (["1", "true", "on", "yes"].includes(value)) return true;
  if (["0", "false", "off", "no"].includes(value)) return false;
  throw new ConfigError(`${name} must be one of on/off, true/false, 1/0, got "${raw}"`);
}

function readNodeEnv(env: Env): boolean {
  const raw = env.NODE_ENV ?? "development";
  if (!["development", "production", "test"].includes(raw)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${raw}"`);
  }
  return raw === "production";
}

function readCidrs(env: Env): string[] {
  const raw = (env.WEBHOOK_ALLOW_CIDRS ?? "").trim();
  if (raw === "") return [];
  const cidrs = raw.split(",").map((part) => part.trim());
  for (const cidr of cidrs) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr)) {
      throw new ConfigError(`WEBHOOK_ALLOW_CIDRS must be comma-separated CIDR ranges, got "${cidr}"`);
    }
  }
  return cidrs;
}

function readRedisUrl(env: Env): string | null {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return null;
  if (!/^rediss?:\/\//.test(raw)) {
    throw new ConfigError("REDIS_URL must start with redis:// or rediss://");
  }
  return raw;
}

function readRedisEmbedded(env: Env, isProduction: boolean, redisUrl: string | null): HubConfig["redisEmbedded"] {
  const raw = env.REDIS_EMBEDDED;
  if (raw === undefined || raw === "") return isProduction ? "off" : "find";
  const embedded = readBoolean(env, "REDIS_EMBEDDED", false);
  if (embedded && redisUrl) throw new ConfigError("REDIS_EMBEDDED=1 and REDIS_URL contradict each other: set one of them");
  return embedded ? "private" : "off";
}

function readHubSecret(env: Env, isProduction: boolean): string | null {
  const raw = env.HUB_SECRET;
  if (raw === undefined || raw === "") {
    if (isProduction) throw new ConfigError("HUB_SECRET is required when NODE_ENV=production");
    return null;
  }
  if (raw.length < 32) throw new ConfigError("HUB_SECRET must be at least 32 characters long");
  return raw;
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function readSchedule(env: Env): number[] {
  const raw = env.WEBHOOK_RETRY_SCHEDULE ?? "5s,30s,2m,10m,30m,1h,3h,6h,12h,24h";
  const delays = raw.split(",").map((part) => DURATION.exec(part.trim()));
  if (delays.length === 0 || delays.length > 20 || delays.some((m) => !m)) {
    throw new ConfigError(`WEBHOOK_RETRY_SCHEDULE must be 1 to 20 durations like 5s,30s,2m,1h, got "${raw}"`);
  }
  return delays.map((m) => Number(m![1]) * UNIT_MS[m![2]]);
}

function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

const ROLE_NAMES = ["ISSUER", "PARTNER", "ADMIN", "VIEWER"];

/** `ROLE=N,ROLE=N`: a limit per role; roles not named keep their default. */
function readRoleLimits(env: Env, name: string, defaults: Record<string, number>): Record<string, number> {
  const raw = (env[name] ?? "").trim();
  const limits = { ...defaults };
  if (raw === "") return limits;
  for (const part of raw.split(",")) {
    const match = /^\s*([A-Z]+)\s*=\s*(\d{1,9})\s*$/.exec(part);
    if (!match || !ROLE_NAMES.includes(match[1]) || Number(match[2]) < 1) {
      throw new ConfigError(`${name} must look like PARTNER=6000,VIEWER=600 (roles ${ROLE_NAMES.join(", ")}; limits at least 1), got "${raw}"`);
    }
    limits[match[1]] = Number(match[2]);
  }
  return limits;
}

function readLogLevel(env: Env): string {
  const raw = env.LOG_LEVEL || "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(raw)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${raw}"`);
  }
  return raw;
}

function readPrefix(env: Env): string {
  const raw = env.QUEUE_PREFIX || "fpr-hub";
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(raw)) throw new ConfigError(`QUEUE_PREFIX must be 1 to 40 letters, digits, _ or -, got "${raw}"`);
  return raw;
}

function checkGuard(limits: HubConfig["limits"]): HubConfig["limits"] {
  if (limits.verifySlowAfter >= limits.verifyBlockAfter) {
    throw new ConfigError("VERIFY_SLOW_AFTER must be smaller than VERIFY_BLOCK_AFTER (verifications slow down before they are blocked)");
  }
  return limits;
}

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
    webhooks: {
      retryScheduleMs: readSchedule(env),
      timeoutMs: readInt(env, "WEBHOOK_TIMEOUT_MS", 10_000, 100, 60_000),
      disableAfterMs: 5 * 86_400_000,
      disableAfterFailures: 20,
      budgetMs: readInt(env, "WEBHOOK_ATTEMPT_BUDGET_MS", 500, 0, 60_000),
      maxInFlightPerEndpoint: readInt(env, "WEBHOOK_MAX_IN_FLIGHT", 16, 1, 1024),
      breakerMs: readInt(env, "WEBHOOK_BREAKER_MS", 30_000, 10, 86_400_000),
      breakerMaxMs: readInt(env, "WEBHOOK_BREAKER_MAX_MS", 3_600_000, 10, 7 * 86_400_000),
    },
    limits: checkGuard({
      checksPerMinute: readRoleLimits(env, "RATE_LIMIT_CHECKS", { ISSUER: 600_000, PARTNER: 120_000, ADMIN: 60_000, VIEWER: 600 }),
      verificationsPerMinute: readRoleLimits(env, "RATE_LIMIT_VERIFICATIONS", { ISSUER: 600, PARTNER: 1200, ADMIN: 600, VIEWER: 60 }),
      verifySlowAfter: readInt(env, "VERIFY_SLOW_AFTER", 3, 1, 1000),
      verifySlowSeconds: readInt(env, "VERIFY_SLOW_SECONDS", 60, 1, 86_400),
      verifyBlockAfter: readInt(env, "VERIFY_BLOCK_AFTER", 10, 2, 1000),
      verifyBlockSeconds: readInt(env, "VERIFY_BLOCK_SECONDS", 3600, 1, 7 * 86_400),
      enumerationPerStem: readInt(env, "ENUMERATION_LIMIT", 20, 2, 10_000),
      enumerationWindowSeconds: readInt(env, "ENUMERATION_WINDOW_SECONDS", 3600, 1, 7 * 86_400),
      auditRetentionDays: readInt(env, "AUDIT_RETENTION_DAYS", 180, 1, 3650),
    }),
    worker: {
      concurrency: readInt(env, "WORKER_CONCURRENCY", 32, 1, 512),
      outboxPollMs: readInt(env, "OUTBOX_POLL_MS", 1000, 10, 60_000),
      expirySweepMs: readInt(env, "EXPIRY_SWEEP_MS", 3_600_000, 100, 86_400_000),
      lockMs: readInt(env, "JOB_LOCK_MS", 30_000, 500, 600_000),
      reconcileMs: readInt(env, "DELIVERY_RECONCILE_MS", 10_000, 10, 600_000),
      graceMs: readInt(env, "DELIVERY_GRACE_MS", 30_000, 10, 3_600_000),
    },
    storage: {
      minFreeBytes: readInt(env, "STORAGE_MIN_FREE_BYTES", 64 * 1024 ** 2, 0, 1024 ** 5),
      checkMs: readInt(env, "STORAGE_CHECK_MS", 5_000, 100, 600_000),
    },
    imports: {
      maxUploadBytes: readInt(env, "IMPORT_MAX_BYTES", 1024 ** 3, 1024, 64 * 1024 ** 3),
      maxPerKey: readInt(env, "IMPORT_MAX_PER_KEY", 2, 1, 100),
    },
  };
}
