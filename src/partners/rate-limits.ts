import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { Redis } from "ioredis";
import type { HubConfig } from "../config.ts";
import { HubError } from "../errors.ts";
import { LeasedLimit, LimitReached } from "./leased-limit.ts";
import type { Principal } from "./roles.ts";

export type LimitedAction = "check" | "verify";

function limited(res: unknown, what: string): never {
  const retryAfterMs = res instanceof RateLimiterRes || res instanceof LimitReached ? Math.max(1, Math.ceil(res.msBeforeNext)) : 60_000;
  throw new HubError("RATE_LIMITED", `${what}; retry after ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
}

/**
 * Per-key limits on checks and verifications, counted in Redis so every api process shares them,
 * with an in-memory limiter as insurance while Redis is unreachable. A verification guard slows,
 * then blocks, one key's repeated NO_MATCH answers for one number.
 */
export class RateLimits {
  readonly #perMinute = new Map<string, LeasedLimit>();
  readonly #failures: RateLimiterRedis;
  readonly #spacing: RateLimiterRedis;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: HubConfig["limits"],
  ) {
    const insurance = (points: number, duration: number) => new RateLimiterMemory({ points, duration });
    this.#failures = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:verify-nomatch`,
      points: limits.verifyBlockAfter,
      duration: limits.verifyBlockSeconds,
      insuranceLimiter: insurance(limits.verifyBlockAfter, limits.verifyBlockSeconds),
    });
    this.#spacing = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${prefix}:verify-spacing`,
      points: 1,
      duration: limits.verifySlowSeconds,
      insuranceLimiter: insurance(1, limits.verifySlowSeconds),
    });
  }

  private limiter(action: LimitedAction, role: string): LeasedLimit {
    const id = `${action}:${role}`;
    let limiter = this.#perMinute.get(id);
    if (!limiter) {
      const table = action === "check" ? this.limits.checksPerMinute : this.limits.verificationsPerMinute;
      limiter = new LeasedLimit(this.redis, `${this.prefix}:rate:${action}`, table[role] ?? 60, 60_000);
      this.#perMinute.set(id, limiter);
    }
    return limiter;
  }

  /**
   * Counts `points` actions against the key's per-minute limit, or throws RATE_LIMITED. Usually
   * answers at once from this process's lease of the shared count (no Redis round trip).
   */
  consume(principal: Principal, action: LimitedAction, points = 1): void | Promise<void> {
    if (points <= 0) return;
    const refuse = (res: unknown) => limited(res, `rate limit for ${action === "check" ? "card checks" : "verifications"} reached for this key`);
    const pending = this.limiter(action, principal.role).consume(principal.keyId, points);
    return pending?.catch(refuse);
  }

  /** Before a verification: refuses a key and number pair that keeps failing to match. */
  async guardVerification(principal: Principal, numberDigest: string): Promise<void> {
    const pair = `${principal.keyId}:${numberDigest}`;
    const failures = await this.#failures.get(pair).catch(() => null);
    if (!failures) return;
    if (failures.consumedPoints >= this.limits.verifyBlockAfter) limited(failures, "too many non-matching verifications of this card by this key");
    if (failures.consumedPoints >= this.limits.verifySlowAfter) {
      await this.#spacing.consume(pair).catch((res: unknown) => limited(res, "repeated non-matching verifications of this card: slow down"));
    }
  }

  /** After a verification: NO_MATCH counts against the pair, MATCH clears it. */
  async recordVerification(principal: Principal, numberDigest: string, matched: boolean): Promise<void> {
    const pair = `${principal.keyId}:${numberDigest}`;
    if (matched) await this.#failures.delete(pair).catch(() => undefined);
    else await this.#failures.consume(pair).catch(() => undefined);
  }
}
