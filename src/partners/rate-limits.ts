import type { Redis } from "ioredis";
import type { HubConfig } from "../config.ts";
import { HubError } from "../errors.ts";
import { LeasedLimit, LimitReached } from "./leased-limit.ts";
import { MissLedger, type Reservation } from "./miss-ledger.ts";
import { guessingGroup, type Principal } from "./roles.ts";

export type LimitedAction = "check" | "verify";
export type { Reservation } from "./miss-ledger.ts";

function limited(waitMs: number, what: string): never {
  const retryAfterMs = Math.max(1, Math.ceil(waitMs));
  throw new HubError("RATE_LIMITED", `${what}; retry after ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
}

/** Whose misses an attempt counts against: the key's, and its group's (guessingGroup). */
function missSubjects(principal: Principal, numberDigest: string): { subjects: string[]; names: string[] } {
  return {
    subjects: [`key:${principal.keyId}:${numberDigest}`, `${guessingGroup(principal)}:${numberDigest}`],
    names: ["this key", principal.partnerId ? "this partner's keys" : "keys without a partner"],
  };
}

/**
 * Per-key limits on checks and verifications, counted in Redis so every api process shares them,
 * with an in-memory limiter as insurance while Redis is unreachable. A verification guard slows,
 * then blocks, repeated NO_MATCH answers for one number, counted per key and per partner.
 */
export class RateLimits {
  readonly #perMinute = new Map<string, LeasedLimit>();
  readonly #misses: MissLedger;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: HubConfig["limits"],
  ) {
    this.#misses = new MissLedger(redis, prefix, {
      slowAfter: limits.verifySlowAfter,
      slowMs: limits.verifySlowSeconds * 1000,
      blockAfter: limits.verifyBlockAfter,
      blockMs: limits.verifyBlockSeconds * 1000,
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
    const refuse = (res: unknown) => limited(res instanceof LimitReached ? res.msBeforeNext : 60_000, `rate limit for ${action === "check" ? "card checks" : "verifications"} reached for this key`);
    const pending = this.limiter(action, principal.role).consume(principal.keyId, points);
    return pending?.catch(refuse);
  }

  /**
   * Before comparing a verification's claims: reserves one miss for the card against the key and
   * its partner, or throws RATE_LIMITED (slowed, or blocked) and reserves nothing. Every attempt
   * that compares counts, concurrent ones (aliases in one request) included; only
   * `refundVerification` gives the reservation back.
   */
  async reserveVerification(principal: Principal, numberDigest: string): Promise<Reservation> {
    const { subjects, names } = missSubjects(principal, numberDigest);
    const answer = await this.#misses.reserve(subjects);
    if (answer.ok) return answer.reservation;
    if (answer.reason === "SLOW") limited(answer.retryMs, "repeated non-matching verifications of this card: slow down");
    limited(answer.retryMs, `too many non-matching verifications of this card by ${names[answer.subject] ?? "this key"}`);
  }

  /**
   * After a MATCH (or a comparison that failed): the attempt was no miss, so its reservation is
   * given back. Earlier misses stay counted until their window ends, whatever matched.
   */
  refundVerification(reservation: Reservation): Promise<void> {
    return this.#misses.refund(reservation);
  }
}
