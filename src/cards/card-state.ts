import type { CardVersion } from "../card-numbers/card-number.ts";
import { chinaDayEnd, chinaDayStart } from "../china-date.ts";
import type { CardState, HolderStatus } from "../db/column-types.ts";

// The lists are kept beside the table definitions, which type the columns with them.
export { HOLDER_STATUSES, type CardState, type HolderStatus } from "../db/column-types.ts";
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

/** The instant a card stops being valid: midnight in China after its last valid day. */
export function expiryInstant(validUntil: string): string {
  return chinaDayEnd(validUntil);
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
    // Without LINEAGE_READ, given to the day: a switch supersedes the V2017 card at the instant the
    // V2023 card is issued, so exact instants would link the two numbers.
    stateChangedAt: canReadLineage ? stateChangedAt : chinaDayStart(stateChangedAt),
    holderStatus: card.holderStatus,
    previousNumber: canReadLineage ? card.previousNumber : null,
    currentNumber: canReadLineage && card.holderCurrentNumber !== card.number ? card.holderCurrentNumber : null,
  };
}
