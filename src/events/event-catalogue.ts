import type { EventType } from "../db/column-types.ts";

// The list is kept beside the table definitions, which type events.type with it.
export { EVENT_TYPES, type EventType } from "../db/column-types.ts";

/** Fields of an event's `data` that reveal lineage: shown only to callers with LINEAGE_READ. */
export const LINEAGE_DATA_FIELDS = ["previousNumber", "currentNumber"] as const;

export interface EventData {
  cardNumber: string;
  issueCount: number;
  version: string;
  state: string;
  previousState: string | null;
  holderStatus: string;
  previousHolderStatus?: string;
  validUntil: string;
  previousNumber?: string | null;
  currentNumber?: string | null;
}

/** A stored event as the change feed and webhooks read it. */
export interface StoredEvent {
  sequence: number;
  type: EventType;
  cardNumber: string;
  issueCount: number;
  holderId: number;
  occurredAt: string;
  data: EventData & { sequence: number };
}
