import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

describe("configuration", () => {
  it("has defaults for a development machine", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, host: "127.0.0.1", isProduction: false, demoSeed: true, redisUrl: null, queuePrefix: "fpr-hub" });
    expect(config.webhooks.retryScheduleMs).toEqual([5000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000]);
    expect(config.databasePath.endsWith("data/fpr-hub.sqlite")).toBe(true);
    expect(config.imports).toEqual({ maxUploadBytes: 1024 ** 3, maxPerKey: 2 });
    expect(config.storage).toEqual({ minFreeBytes: 64 * 1024 ** 2, checkMs: 5000 });
  });

  it("turns production on: no demo seed, HUB_SECRET required", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/HUB_SECRET is required/);
    const config = loadConfig({ NODE_ENV: "production", HUB_SECRET: "s".repeat(32) });
    expect(config).toMatchObject({ isProduction: true, demoSeed: false });
  });

  it("stops on an invalid value with a message naming the variable", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: "eighty" }, /^PORT /],
      [{ PORT: "70000" }, /^PORT /],
      [{ NODE_ENV: "staging" }, /^NODE_ENV /],
      [{ DEMO_SEED: "maybe" }, /^DEMO_SEED /],
      [{ REDIS_URL: "http://x" }, /^REDIS_URL /],
      [{ HUB_SECRET: "short" }, /^HUB_SECRET /],
      [{ WEBHOOK_ALLOW_CIDRS: "10.0.0.0" }, /^WEBHOOK_ALLOW_CIDRS /],
      [{ WEBHOOK_RETRY_SCHEDULE: "5 seconds" }, /^WEBHOOK_RETRY_SCHEDULE /],
      [{ WORKER_CONCURRENCY: "0" }, /^WORKER_CONCURRENCY /],
      [{ QUEUE_PREFIX: "a:b" }, /^QUEUE_PREFIX /],
      [{ IMPORT_MAX_BYTES: "1GiB" }, /^IMPORT_MAX_BYTES /],
      [{ IMPORT_MAX_PER_KEY: "0" }, /^IMPORT_MAX_PER_KEY /],
      [{ RATE_LIMIT_CHECKS: "KING=5" }, /^RATE_LIMIT_CHECKS /],
      [{ VERIFY_SLOW_AFTER: "10", VERIFY_BLOCK_AFTER: "5" }, /^VERIFY_SLOW_AFTER /],
      [{ AUDIT_RETENTION_DAYS: "-1" }, /^AUDIT_RETENTION_DAYS /],
      [{ STORAGE_MIN_FREE_BYTES: "64MiB" }, /^STORAGE_MIN_FREE_BYTES /],
      [{ STORAGE_MIN_FREE_BYTES: "-1" }, /^STORAGE_MIN_FREE_BYTES /],
      [{ STORAGE_MIN_FREE_BYTES: "1e9" }, /^STORAGE_MIN_FREE_BYTES /],
      [{ STORAGE_CHECK_MS: "50" }, /^STORAGE_CHECK_MS /],
      [{ STORAGE_CHECK_MS: "5s" }, /^STORAGE_CHECK_MS /],
      [{ SHUTDOWN_GRACE_MS: "30s" }, /^SHUTDOWN_GRACE_MS /],
      [{ SHUTDOWN_GRACE_MS: "10" }, /^SHUTDOWN_GRACE_MS /],
      [{ REDIS_EMBEDDED: "maybe" }, /^REDIS_EMBEDDED /],
      [{ REDIS_EMBEDDED: "1", REDIS_URL: "redis://127.0.0.1:6390" }, /^REDIS_EMBEDDED=1 and REDIS_URL contradict/],
      [{ REDIS_ALLOW_EVICTION: "sometimes" }, /^REDIS_ALLOW_EVICTION /],
      [{ DELIVERY_RECONCILE_MS: "10s" }, /^DELIVERY_RECONCILE_MS /],
      [{ DELIVERY_RECONCILE_MS: "5" }, /^DELIVERY_RECONCILE_MS /],
      [{ DELIVERY_GRACE_MS: "-1" }, /^DELIVERY_GRACE_MS /],
      [{ WEBHOOK_MAX_IN_FLIGHT: "0" }, /^WEBHOOK_MAX_IN_FLIGHT /],
      [{ WEBHOOK_ATTEMPT_BUDGET_MS: "half" }, /^WEBHOOK_ATTEMPT_BUDGET_MS /],
      [{ WEBHOOK_BREAKER_MS: "1" }, /^WEBHOOK_BREAKER_MS /],
      [{ WEBHOOK_BREAKER_MAX_MS: "1h" }, /^WEBHOOK_BREAKER_MAX_MS /],
    ];
    for (const [env, message] of cases) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    }
  });

  it("reads per-role limits and retry schedules", () => {
    const config = loadConfig({ RATE_LIMIT_CHECKS: "PARTNER=5, VIEWER=7", WEBHOOK_RETRY_SCHEDULE: "20ms,1s,2m" });
    expect(config.limits.checksPerMinute).toMatchObject({ PARTNER: 5, VIEWER: 7, ISSUER: 600_000 });
    expect(config.webhooks.retryScheduleMs).toEqual([20, 1000, 120_000]);
  });

  it("reads the storage thresholds; 0 turns the free-space warning off", () => {
    expect(loadConfig({ STORAGE_MIN_FREE_BYTES: "0", STORAGE_CHECK_MS: "100" }).storage).toEqual({ minFreeBytes: 0, checkMs: 100 });
    expect(loadConfig({ STORAGE_MIN_FREE_BYTES: String(1024 ** 4) }).storage.minFreeBytes).toBe(1024 ** 4);
  });

  it("reads the Redis and stopping settings: embedded Redis found in development, off in production unless asked for", () => {
    expect(loadConfig({})).toMatchObject({ redisEmbedded: "find", redisAllowEviction: false, shutdownGraceMs: 30_000 });
    const production = { NODE_ENV: "production", HUB_SECRET: "s".repeat(32) };
    expect(loadConfig(production).redisEmbedded).toBe("off");
    expect(loadConfig({ ...production, REDIS_EMBEDDED: "1" }).redisEmbedded).toBe("private");
    expect(loadConfig({ REDIS_EMBEDDED: "on" }).redisEmbedded).toBe("private");
    expect(loadConfig({ REDIS_EMBEDDED: "0" }).redisEmbedded).toBe("off");
    expect(loadConfig({ ...production, REDIS_URL: "redis://10.0.0.5:6379" })).toMatchObject({ redisUrl: "redis://10.0.0.5:6379", redisEmbedded: "off" });
    expect(loadConfig({ REDIS_ALLOW_EVICTION: "1", SHUTDOWN_GRACE_MS: "5000" })).toMatchObject({ redisAllowEviction: true, shutdownGraceMs: 5000 });
  });
});
