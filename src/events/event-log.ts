import type { HubDb } from "../db/client.ts";
import type { StoredEvent } from "./event-catalogue.ts";
import { eventRowOf, type EventRow } from "./event-log.store.ts";

/** A stored row as the change feed and webhooks read it: its data parsed, with the event's sequence. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return { ...row, data: { ...JSON.parse(row.data), sequence: row.sequence } };
}

/** One stored event by sequence. */
export function readEvent(db: HubDb, sequence: number): StoredEvent | undefined {
  const row = eventRowOf(db, sequence);
  return row ? toStoredEvent(row) : undefined;
}
