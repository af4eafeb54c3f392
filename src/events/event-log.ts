import { sql } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { events } from "../db/schema.ts";
import type { NewEvent } from "./event-catalogue.ts";

/**
 * Appends one event to the log. Call it inside the same transaction as the state change it
 * records: the log is the outbox, so an event exists exactly when its change was committed.
 */
export function appendEvent(db: HubDb, event: NewEvent): number {
  const row = db
    .insert(events)
    .values({
      type: event.type,
      cardNumber: event.cardNumber,
      issueCount: event.issueCount,
      holderId: event.holderId,
      occurredAt: event.occurredAt,
      data: JSON.stringify(event.data),
    })
    .returning({ sequence: events.sequence })
    .get();
  return row.sequence;
}

export function latestSequence(db: HubDb): number {
  const row = db.get<{ seq: number | null }>(sql`SELECT max(sequence) AS seq FROM events`);
  return row?.seq ?? 0;
}
