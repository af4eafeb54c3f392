import type { CardVersion } from "../card-numbers/card-number.ts";
import type { CardState, HolderStatus } from "../db/column-types.ts";

// The lists are kept beside the table definitions, which type the columns with them.
export { CARD_STATES, HOLDER_STATUSES, type CardState, type HolderStatus } from "../db/column-types.ts";
export type CheckResult = CardState | "HOLDER_INACTIVE" | "NOT_FOUND" | "MALFORMED";

/** A card instance joined with its holder, as the register reads it. */
export interface CardRecord {
  number: string;
  issueCount: number;
  version: CardVersion;
  state: CardState;
  validFrom: string;
  validUntil: string;
  stateChangedAt: string;
  previousNumber: string | null;
  holderId: number;
  holderStatus: HolderStatus;
  holderCurrentNumber: string;
}

/**
 * What a caller sees of a card. Lineage fields are null, and `stateChangedAt` is given to the day,
 * unless the caller may read lineage.
 */
export interface CardView {
  number: string;
  issueCount: number;
  version: CardVersion;
  state: CardState;
  validFrom: string;
  validUntil: string;
  stateChangedAt: string;
  holderStatus: HolderStatus;
  previousNumber: string | null;
  currentNumber: string | null;
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000;

/** Validity dates on the card are dates in China (UTC+8), so "today" is China's date. */
let todayCache = { minute: Number.NaN, date: "" };

/** Today's date in China (UTC+8), YYYY-MM-DD. Dates change on minute boundaries: kept per minute. */
export function chinaToday(now: Date): string {
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== todayCache.minute) todayCache = { minute, date: new Date(now.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10) };
  return todayCache.date;
}

/** The instant a card stops being valid: midnight in China after its last valid day. */
export function expiryInstant(validUntil: string): string {
  const nextDay = new Date(`${validUntil}T00:00:00Z`).getTime() + 24 * 3600 * 1000;
  return new Date(nextDay - CHINA_OFFSET_MS).toISOString();
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The start (midnight in China) of the China day an instant falls on. Without LINEAGE_READ,
 * `stateChangedAt` is shown to the day: a switch supersedes the V2017 card at the instant the
 * V2023 card is issued, so exact instants would link the two numbers.
 */
export function chinaDayStart(instant: string): string {
  const t = Date.parse(instant);
  return new Date(Math.floor((t + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS).toISOString();
}

/** Expiry is derived at read time: a VALID card past its `validUntil` reads as EXPIRED. */
export function effectiveState(card: Pick<CardRecord, "state" | "validUntil">, today: string): CardState {
  if (card.state === "VALID" && card.validUntil < today) return "EXPIRED";
  return card.state;
}

/** The answer a partner sees: only a VALID card of an ACTIVE holder is recognized. */
export function checkResultOf(card: CardRecord, today: string): CheckResult {
  const state = effectiveState(card, today);
  if (state !== "VALID") return state;
  return card.holderStatus === "ACTIVE" ? "VALID" : "HOLDER_INACTIVE";
}

export function toCardView(card: CardRecord, today: string, canReadLineage: boolean): CardView {
  const state = effectiveState(card, today);
  const derivedExpiry = state === "EXPIRED" && card.state === "VALID";
  const stateChangedAt = derivedExpiry ? expiryInstant(card.validUntil) : card.stateChangedAt;
  return {
    number: card.number,
    issueCount: card.issueCount,
    version: card.version,
    state,
    validFrom: card.validFrom,
    validUntil: card.validUntil,
    stateChangedAt: canReadLineage ? stateChangedAt : chinaDayStart(stateChangedAt),
    holderStatus: card.holderStatus,
    previousNumber: canReadLineage ? card.previousNumber : null,
    currentNumber: canReadLineage && card.holderCurrentNumber !== card.number ? card.holderCurrentNumber : null,
  };
}
