import type { EventType } from "../db/column-types.ts";

// The list is kept beside the table definitions, which type events.type with it.
export { EVENT_TYPES, type EventType } from "../db/column-types.ts";

/** Fields of an event's `data` that reveal lineage: shown only to callers with LINEAGE_READ. */
const LINEAGE_DATA_FIELDS = ["previousNumber", "currentNumber"] as const;

/** A copy of an event's `data` as a reader sees it: without the lineage fields unless it may read them. */
export function visibleEventData(data: StoredEvent["data"], canReadLineage: boolean): Record<string, unknown> {
  const visible: Record<string, unknown> = { ...data };
  if (!canReadLineage) for (const field of LINEAGE_DATA_FIELDS) delete visible[field];
  return visible;
}

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
