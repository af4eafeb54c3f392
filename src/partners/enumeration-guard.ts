import type { Redis } from "ioredis";
import { normalizeCardNumber } from "../card-numbers/card-number-normalize.ts";
import { cardNumberStem } from "../card-numbers/card-number-stem.ts";
import { HubError } from "../errors.ts";
import type { AuditKind, AuditLog } from "./audit-log.ts";
import { EnumerationScript, type StemBatch } from "./enumeration-script.ts";
import { guessingGroup, type Principal } from "./roles.ts";

/** New numbers of one stem a process answers without asking Redis (per flush), until the stem is known to be busy. */
const FREE_PER_STEM = 2;
const FLUSH_MS = 250;
/** Numbers remembered as already counted (so repeats need no Redis at all); the oldest are forgotten first. */
const MAX_REMEMBERED = 200_000;

function tooManyOfOneStem(retryAfter: number): HubError {
  const retryAfterMs = Math.max(1, retryAfter);
  return new HubError("RATE_LIMITED", `too many different numbers with the same birth date, nationality and province; retry after ${Math.ceil(retryAfterMs / 1000)} s`, {
    retryAfterMs,
  });
}

export interface EnumerationSettings {
  /** Distinct numbers per stem and window; more are refused. */
  perStem: number;
  windowMs: number;
}

/**
 * Refuses sequential guessing of card numbers: a partner (or the keys without partner, together) may check at
 * most `perStem` distinct numbers that share a stem (province, nationality, birth date) per window.
 * Counted in Redis (one set per subject and stem), so every api process shares the count, without a
 * round trip on the usual path: a repeat of a counted number, or one of at most two new numbers of
 * a quiet stem, is answered at once and sent to Redis with others every 250 ms. A request with more,
 * or any new number of a busy stem, is counted in one Redis call before it is answered. Each api
 * process may so admit up to two numbers of a stem past the limit. Refusals are audited. While
 * Redis is unreachable, each process counts alone (the limit applies to what it answered since
 * it last reached Redis). ISSUER keys, which write the register, are not counted.
 */
export class EnumerationGuard {
  #pending = new Map<string, Set<string>>();
  /** Per subject, numbers known to be counted in Redis, and until when. */
  readonly #remembered = new Map<string, Map<string, number>>();
  #rememberedCount = 0;
  readonly #busy = new Map<string, number>();
  readonly #script: EnumerationScript;
  readonly #timer: NodeJS.Timeout;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly settings: EnumerationSettings,
    private readonly audit: AuditLog | null,
  ) {
    this.#script = new EnumerationScript(redis, settings.perStem, settings.windowMs);
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /** Admits the numbers of one request, or throws RATE_LIMITED (audited). Usually returns at once. */
  admit(principal: Principal, inputs: readonly unknown[], kind: AuditKind): void | Promise<void> {
    if (principal.role === "ISSUER") return; // the authority that writes the register guesses nothing
    const asked = this.#newNumbers(principal, inputs, Date.now());
    if (asked === null) return;
    const strict: StemBatch[] = [];
    for (const [set, numbers] of asked) {
      const pending = this.#pending.get(set);
      if (!this.#isBusy(set) && (pending?.size ?? 0) + numbers.size <= FREE_PER_STEM) continue;
      strict.push({ key: set, answered: pending ? [...pending] : [], asked: [...numbers] });
      this.#pending.delete(set);
    }
    if (strict.length === 0) return this.#answered(asked);
    return this.#count(strict).then(
      () => this.#answered(asked, strict),
      (error: unknown) => this.#refuse(principal, inputs, kind, error),
    );
  }

  /** Sends the numbers answered since the last flush; learns which stems are busy. */
  async flush(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batches = [...this.#pending].map(([key, numbers]) => ({ key, answered: [...numbers], asked: [] }));
    this.#pending = new Map();
    const now = Date.now();
    const answers = await this.#script.record(batches.map((b) => ({ ...b, key: this.#redisKey(b.key) }))).catch(() => batches.map(() => null));
    answers.forEach((answer, i) => {
      if (answer) this.#learn(batches[i].key, batches[i].answered, answer.count, now + answer.pttl);
      else this.#keepPending(batches[i].key, batches[i].answered);
    });
    this.#forgetExpired(now);
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    return this.flush().catch(() => undefined);
  }

  /** Per stem set, the request's numbers not yet counted; null when there are none. */
  #newNumbers(principal: Principal, inputs: readonly unknown[], now: number): Map<string, Set<string>> | null {
    const subject = guessingGroup(principal);
    const remembered = this.#remembered.get(subject);
    let asked: Map<string, Set<string>> | null = null;
    for (const input of inputs) {
      if (typeof input !== "string") continue;
      const number = normalizeCardNumber(input);
      if ((remembered?.get(number) ?? 0) > now) continue;
      const stem = cardNumberStem(number);
      if (stem === null) continue;
      const set = `${subject}:${stem}`;
      if (this.#pending.get(set)?.has(number)) continue;
      asked ??= new Map();
      const numbers = asked.get(set);
      if (numbers) numbers.add(number);
      else asked.set(set, new Set([number]));
    }
    return asked;
  }

  #isBusy(set: string): boolean {
    const until = this.#busy.get(set);
    return until !== undefined && until > Date.now();
  }

  async #count(strict: StemBatch[]): Promise<void> {
    const now = Date.now();
    let answer;
    try {
      answer = await this.#script.admit(strict.map((b) => ({ ...b, key: this.#redisKey(b.key) })));
    } catch {
      this.#countLocally(strict);
      return;
    }
    if (!answer.admitted) {
      for (const b of strict) this.#learn(b.key, b.answered, this.settings.perStem, now + answer.pttl);
      throw tooManyOfOneStem(answer.pttl);
    }
    answer.sets.forEach((set, i) => this.#learn(strict[i].key, [...strict[i].answered, ...strict[i].asked], set.count, now + set.pttl));
  }

  /**
   * Redis unreachable: this process judges alone, by the numbers of each stem it answered and has
   * not yet been able to count (they wait for the next flush), so checks stay up during an outage.
   */
  #countLocally(strict: StemBatch[]): void {
    for (const b of strict) this.#keepPending(b.key, b.answered);
    for (const b of strict) {
      const seen = new Set([...(this.#pending.get(b.key) ?? []), ...b.asked]);
      if (seen.size > this.settings.perStem) throw tooManyOfOneStem(this.settings.windowMs);
    }
    for (const b of strict) this.#keepPending(b.key, b.asked);
  }

  /** The numbers answered without Redis wait for the next flush. */
  #answered(asked: Map<string, Set<string>>, counted: StemBatch[] = []): void {
    const done = new Set(counted.map((b) => b.key));
    for (const [set, numbers] of asked) if (!done.has(set)) this.#keepPending(set, numbers);
  }

  #refuse(principal: Principal, inputs: readonly unknown[], kind: AuditKind, error: unknown): never {
    for (const input of inputs) {
      const number = typeof input === "string" ? normalizeCardNumber(input) : "";
      const shaped = cardNumberStem(number) !== null;
      this.audit?.record({
        kind,
        keyId: principal.keyId,
        partnerId: principal.partnerId,
        number: shaped ? number : null,
        version: shaped ? (number.length === 18 ? "V2023" : "V2017") : null,
        result: "RATE_LIMITED",
      });
    }
    throw error;
  }

  #learn(set: string, numbers: readonly string[], count: number, until: number): void {
    if (count >= FREE_PER_STEM) this.#busy.set(set, until);
    if (this.#rememberedCount + numbers.length > MAX_REMEMBERED) this.#forgetAll();
    const subject = set.slice(0, set.lastIndexOf(":"));
    let remembered = this.#remembered.get(subject);
    if (!remembered) this.#remembered.set(subject, (remembered = new Map()));
    for (const number of numbers) {
      if (!remembered.has(number)) this.#rememberedCount += 1;
      remembered.set(number, until);
    }
  }

  #keepPending(set: string, numbers: Iterable<string>): void {
    let pending = this.#pending.get(set);
    if (!pending) {
      if (this.#pending.size >= MAX_REMEMBERED) return; // Redis has been away for long: stop holding more
      this.#pending.set(set, (pending = new Set()));
    }
    for (const number of numbers) pending.add(number);
  }

  #forgetExpired(now: number): void {
    for (const [set, until] of this.#busy) if (until <= now) this.#busy.delete(set);
    for (const [subject, remembered] of this.#remembered) {
      for (const [number, until] of remembered) {
        if (until > now) break; // oldest first, near enough: the rest go when the cap is reached
        remembered.delete(number);
        this.#rememberedCount -= 1;
      }
      if (remembered.size === 0) this.#remembered.delete(subject);
    }
  }

  /** Past the cap, start over: forgotten numbers are only sent to Redis again. */
  #forgetAll(): void {
    this.#remembered.clear();
    this.#rememberedCount = 0;
  }

  #redisKey(set: string): string {
    return `${this.prefix}:enum:${set}`;
  }
}
