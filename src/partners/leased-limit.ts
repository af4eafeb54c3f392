import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/**
 * Takes points from a shared per-window counter, or refuses: grants up to `want` but at least
 * `need`, never past `limit`. Returns {granted, used, pttl}; granted 0 means refused.
 */
const LEASE_SCRIPT = `
local need = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then used = 0 end
local free = limit - used
if free < need then return {0, used, ttl} end
local grant = math.min(want, free)
if ttl < 0 then
  redis.call('SET', KEYS[1], grant, 'PX', window)
  return {grant, grant, window}
end
return {grant, redis.call('INCRBY', KEYS[1], grant), ttl}
`;

/** Thrown when the window's points are spent: retry after `msBeforeNext`. */
export class LimitReached extends Error {
  constructor(readonly msBeforeNext: number) {
    super("limit reached");
  }
}

interface Lease {
  /** Points this process took from the shared counter and has not used yet. */
  remaining: number;
  /** When the shared window (and so this lease) ends, on this process's clock. */
  endsAt: number;
}

/**
 * A fixed-window limit shared by every process through one Redis counter per key, without a Redis
 * round trip per request: a process leases a slice of the window (1 % of the limit, 1 to 1,000
 * points) and spends it locally. It never admits more than the limit in total; it may refuse up to
 * one unspent slice per process early. Small limits lease one point at a time, so they are exact.
 * While Redis is unreachable, an in-memory limiter of the same size stands in.
 */
export class LeasedLimit {
  readonly #leases = new Map<string, Lease>();
  readonly #refills = new Map<string, Promise<void>>();
  readonly #slice: number;
  readonly #insurance: RateLimiterMemory;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    this.#slice = Math.max(1, Math.min(1000, Math.floor(limit / 100)));
    this.#insurance = new RateLimiterMemory({ points: limit, duration: Math.ceil(windowMs / 1000) });
  }

  /** Spends `points` for `key`: at once from the lease when it covers them, else after a refill. Throws LimitReached. */
  consume(key: string, points: number): void | Promise<void> {
    if (this.#take(key, points)) return;
    return this.#refill(key, points);
  }

  #take(key: string, points: number): boolean {
    const lease = this.#leases.get(key);
    if (!lease || lease.remaining < points || Date.now() >= lease.endsAt) return false;
    lease.remaining -= points;
    return true;
  }

  /** One refill per key at a time; waiters retry the lease the refill left before asking Redis themselves. */
  async #refill(key: string, points: number): Promise<void> {
    for (;;) {
      const running = this.#refills.get(key);
      if (!running) break;
      await running.catch(() => undefined);
      if (this.#take(key, points)) return;
    }
    const refill = this.#ask(key, points);
    this.#refills.set(key, refill);
    try {
      await refill;
    } finally {
      if (this.#refills.get(key) === refill) this.#refills.delete(key);
    }
  }

  async #ask(key: string, points: number): Promise<void> {
    const now = Date.now();
    const lease = this.#leases.get(key);
    const held = lease && now < lease.endsAt ? lease.remaining : 0;
    const need = Math.max(0, points - held);
    let answer: unknown;
    try {
      answer = await this.redis.eval(LEASE_SCRIPT, 1, `${this.keyPrefix}:${key}`, need, Math.max(need, this.#slice), this.limit, this.windowMs);
    } catch {
      await this.#insurance.consume(key, points).catch((res: unknown) => {
        throw new LimitReached(res instanceof RateLimiterRes ? res.msBeforeNext : this.windowMs);
      });
      return;
    }
    const [granted, , pttl] = answer as [number, number, number];
    if (granted === 0 && need > 0) throw new LimitReached(pttl > 0 ? pttl : this.windowMs);
    this.#leases.set(key, { remaining: held + granted - points, endsAt: now + pttl });
  }
}
