import type { EventType } from "./event-catalogue.ts";

/** Revocations and loss reports take their own lane, so bulk traffic never delays them. */
export type Lane = "urgent" | "bulk";
const URGENT_TYPES: ReadonlySet<string> = new Set<EventType>(["CARD_REVOKED", "CARD_REPORTED_LOST"]);

export function laneOf(type: string): Lane {
  return URGENT_TYPES.has(type) ? "urgent" : "bulk";
}
