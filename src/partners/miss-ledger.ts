import crypto from "node:crypto";
import type { Redis } from "ioredis";
import { MemoryMissLedger } from "./miss-ledger-memory.ts";
import type { MissRule, Reservation, Reserved } from "./miss-rule.ts";

export type { MissRule, Reservation, Reserved } from "./miss-rule.ts";

/**
 * Reserves one miss on every counter at once, or refuses and reserves none. KEYS: the k counters
 * (hashes: n, gen), then their k spacing keys. ARGV: slowAfter, slowMs, blockAfter, blockMs, token.
 * A counter is created with the token as its generation, so a refund after it expired (and was
 * created again) finds another generation and changes nothing. Returns {1, gen…} or
 * {0, reason, subject index, retry ms}.
 */
const RESERVE_SCRIPT = `
local k = #KEYS / 2
local slowAfter, slowMs = tonumber(ARGV[1]), tonumber(ARGV[2])
local blockAfter, blockMs = tonumber(ARGV[3]), tonumber(ARGV[4])
local counts = {}
for i = 1, k do
  counts[i] = redis.call('HINCRBY', KEYS[i], 'n', 1)
  if redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('HSET', KEYS[i], 'gen', ARGV[5])
    redis.call('PEXPIRE', KEYS[i], blockMs)
  end
end
local function refuse(reason, i, wait)
  for j = 1, k do redis.call('HINCRBY', KEYS[j], 'n', -1) end
  return {0, reason, i - 1, wait}
end
for i = 1, k do
  if counts[i] > blockAfter then return refuse('BLOCKED', i, redis.call('PTTL', KEYS[i])) end
end
for i = 1, k do
  if counts[i] > slowAfter then
    local wait = redis.call('PTTL', KEYS[k + i])
    if wait > 0 then return refuse('SLOW', i, wait) end
  end
end
local answer = {1}
for i = 1, k do
  if counts[i] > slowAfter then redis.call('SET', KEYS[k + i], '1', 'PX', slowMs) end
  if counts[i] == blockAfter then redis.call('PEXPIRE', KEYS[i], blockMs) end
  answer[i + 1] = redis.call('HGET', KEYS[i], 'gen')
end
return answer
`;

/** Gives back one reserved miss per counter, only to the generation it was taken from, never below 0. */
const REFUND_SCRIPT = `
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 'gen') == ARGV[i] and tonumber(redis.call('HGET', KEYS[i], 'n') or '0') > 0 then
    redis.call('HINCRBY', KEYS[i], 'n', -1)
  end
end
return 1
`;

/**
 * Counts misses (answers that compared a claim and found it wrong) per subject in Redis, shared by
 * every api process. An attempt reserves its miss before comparing, atomically on all its subjects,
 * so concurrent attempts each see the others; an attempt that is not a miss refunds its
 * reservation. While Redis is unreachable, a per-process ledger with the same rule stands in.
 */
export class MissLedger {
  readonly #memory = new MemoryMissLedger();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly rule: MissRule,
  ) {}

  async reserve(subjects: string[]): Promise<{ ok: true; reservation: Reservation } | Extract<Reserved, { ok: false }>> {
    const counters = subjects.map((s) => `${this.prefix}:verify:miss:${s}`);
    const spacers = subjects.map((s) => `${this.prefix}:verify:spacing:${s}`);
    const token = crypto.randomUUID();
    const { slowAfter, slowMs, blockAfter, blockMs } = this.rule;
    let answer: unknown[];
    try {
      answer = (await this.redis.eval(RESERVE_SCRIPT, counters.length * 2, ...counters, ...spacers, slowAfter, slowMs, blockAfter, blockMs, token)) as unknown[];
    } catch {
      const local = this.#memory.reserve(counters, spacers, this.rule, token);
      return local.ok ? { ok: true, reservation: { counters, gens: local.gens, store: "memory" } } : local;
    }
    if (answer[0] === 1) return { ok: true, reservation: { counters, gens: answer.slice(1).map(String), store: "redis" } };
    const retryMs = Number(answer[3]);
    return { ok: false, reason: answer[1] === "SLOW" ? "SLOW" : "BLOCKED", subject: Number(answer[2]), retryMs: retryMs > 0 ? retryMs : blockMs };
  }

  /** Gives a reservation back. If Redis cannot be reached, the miss stays counted (the safe side). */
  async refund(reservation: Reservation): Promise<void> {
    const { counters, gens } = reservation;
    if (reservation.store === "memory") return this.#memory.refund(counters, gens);
    await this.redis.eval(REFUND_SCRIPT, counters.length, ...counters, ...gens).catch(() => undefined);
  }
}
