/** Webhook delivery: retries, timeouts, the endpoint breaker, and the private ranges allowed as targets. */
import { ConfigError, readInt, type Env } from "./env-values.ts";

export interface WebhookConfig {
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
}

/** `WEBHOOK_ALLOW_CIDRS`: private ranges webhook URLs may nonetheless point into. */
export function readCidrs(env: Env): string[] {
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

export function readWebhooks(env: Env): WebhookConfig {
  return {
    retryScheduleMs: readSchedule(env),
    timeoutMs: readInt(env, "WEBHOOK_TIMEOUT_MS", 10_000, 100, 60_000),
    disableAfterMs: 5 * 86_400_000,
    disableAfterFailures: 20,
    budgetMs: readInt(env, "WEBHOOK_ATTEMPT_BUDGET_MS", 500, 0, 60_000),
    maxInFlightPerEndpoint: readInt(env, "WEBHOOK_MAX_IN_FLIGHT", 16, 1, 1024),
    breakerMs: readInt(env, "WEBHOOK_BREAKER_MS", 30_000, 10, 86_400_000),
    breakerMaxMs: readInt(env, "WEBHOOK_BREAKER_MAX_MS", 3_600_000, 10, 7 * 86_400_000),
  };
}
