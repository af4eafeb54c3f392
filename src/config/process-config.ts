/** The settings of the process itself: environment, redis, hub secret, logging, queue prefix. */
import { ConfigError, readBoolean, type Env } from "./env-values.ts";

/**
 * Where Redis comes from when `REDIS_URL` is not set (`REDIS_EMBEDDED`): `find` (the default in
 * development and test: a server on 127.0.0.1:6379 if one answers, else a private redis-server
 * child), `private` (`REDIS_EMBEDDED=1`: always the hub's own redis-server under DATA_DIR/redis,
 * never someone else's on 6379; the explicit opt-in in production), `off` (the default in
 * production, `REDIS_EMBEDDED=0`: REDIS_URL is required).
 */
export type RedisEmbedded = "find" | "private" | "off";

export function readNodeEnv(env: Env): boolean {
  const raw = env.NODE_ENV ?? "development";
  if (!["development", "production", "test"].includes(raw)) {
    throw new ConfigError(`NODE_ENV must be development, production or test, got "${raw}"`);
  }
  return raw === "production";
}

export function readRedisUrl(env: Env): string | null {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return null;
  if (!/^rediss?:\/\//.test(raw)) {
    throw new ConfigError("REDIS_URL must start with redis:// or rediss://");
  }
  return raw;
}

export function readRedisEmbedded(env: Env, isProduction: boolean, redisUrl: string | null): RedisEmbedded {
  const raw = env.REDIS_EMBEDDED;
  if (raw === undefined || raw === "") return isProduction ? "off" : "find";
  const embedded = readBoolean(env, "REDIS_EMBEDDED", false);
  if (embedded && redisUrl) throw new ConfigError("REDIS_EMBEDDED=1 and REDIS_URL contradict each other: set one of them");
  return embedded ? "private" : "off";
}

export function readHubSecret(env: Env, isProduction: boolean): string | null {
  const raw = env.HUB_SECRET;
  if (raw === undefined || raw === "") {
    if (isProduction) throw new ConfigError("HUB_SECRET is required when NODE_ENV=production");
    return null;
  }
  if (raw.length < 32) throw new ConfigError("HUB_SECRET must be at least 32 characters long");
  return raw;
}

export function readLogLevel(env: Env): string {
  const raw = env.LOG_LEVEL || "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(raw)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${raw}"`);
  }
  return raw;
}

export function readPrefix(env: Env): string {
  const raw = env.QUEUE_PREFIX || "fpr-hub";
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(raw)) throw new ConfigError(`QUEUE_PREFIX must be 1 to 40 letters, digits, _ or -, got "${raw}"`);
  return raw;
}
