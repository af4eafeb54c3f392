import type { MissRule, Reserved } from "./miss-rule.ts";

interface Count {
  n: number;
  gen: string;
  expiresAt: number;
}

const SWEEP_AT = 10_000;

/**
 * The miss ledger of one process, for while Redis is unreachable: the same rule as the Redis
 * script (see miss-ledger.ts), applied synchronously, so it is atomic within the process.
 */
export class MemoryMissLedger {
  readonly #counts = new Map<string, Count>();
  readonly #spacing = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  reserve(counters: string[], spacers: string[], rule: MissRule, token: string): Reserved {
    this.#sweep();
    const now = this.now();
    const counts = counters.map((key) => this.#count(key, now, rule, token));
    for (const count of counts) count.n += 1;
    const refuse = (reason: "BLOCKED" | "SLOW", subject: number, until: number): Reserved => {
      for (const count of counts) count.n -= 1;
      return { ok: false, reason, subject, retryMs: until - now };
    };
    const blocked = counts.findIndex((count) => count.n > rule.blockAfter);
    if (blocked >= 0) return refuse("BLOCKED", blocked, counts[blocked].expiresAt);
    const spaced = counts.findIndex((count, i) => count.n > rule.slowAfter && (this.#spacing.get(spacers[i]) ?? 0) > now);
    if (spaced >= 0) return refuse("SLOW", spaced, this.#spacing.get(spacers[spaced])!);
    counts.forEach((count, i) => {
      if (count.n > rule.slowAfter) this.#spacing.set(spacers[i], now + rule.slowMs);
      if (count.n === rule.blockAfter) count.expiresAt = now + rule.blockMs;
    });
    return { ok: true, gens: counts.map((count) => count.gen) };
  }

  refund(counters: string[], gens: string[]): void {
    const now = this.now();
    counters.forEach((key, i) => {
      const count = this.#counts.get(key);
      if (count && count.gen === gens[i] && count.expiresAt > now && count.n > 0) count.n -= 1;
    });
  }

  #count(key: string, now: number, rule: MissRule, token: string): Count {
    let count = this.#counts.get(key);
    if (!count || count.expiresAt <= now) {
      count = { n: 0, gen: token, expiresAt: now + rule.blockMs };
      this.#counts.set(key, count);
    }
    return count;
  }

  #sweep(): void {
    if (this.#counts.size + this.#spacing.size < SWEEP_AT) return;
    const now = this.now();
    for (const [key, count] of this.#counts) if (count.expiresAt <= now) this.#counts.delete(key);
    for (const [key, until] of this.#spacing) if (until <= now) this.#spacing.delete(key);
  }
}
