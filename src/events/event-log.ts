import type { Statement } from "better-sqlite3";
import { inArray, isNull } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { events } from "../db/schema.ts";
import { toStoredEvent } from "./change-feed.ts";
import type { StoredEvent } from "./event-catalogue.ts";

const eventReaders = new WeakMap<HubDb["$client"], Statement>();

/** One stored event by sequence (prepared once per connection: fan-out and delivery read one per job). */
export function readEvent(db: HubDb, sequence: number): StoredEvent | undefined {
  let reader = eventReaders.get(db.$client);
  if (!reader) {
    reader = db.$client.prepare(
      "SELECT sequence, type, card_number AS cardNumber, issue_count AS issueCount, holder_id AS holderId, occurred_at AS occurredAt, data FROM events WHERE sequence = ?",
    );
    eventReaders.set(db.$client, reader);
  }
  const row = reader.get(sequence) as Parameters<typeof toStoredEvent>[0] | undefined;
  return row ? toStoredEvent(row) : undefined;
}

/** Events whose deliveries are not yet written to the ledger (still in the outbox), oldest first. */
export function undispatchedEvents(db: HubDb, limit: number): { sequence: number; type: string; cardNumber: string; holderId: number }[] {
  return db
    .select({ sequence: events.sequence, type: events.type, cardNumber: events.cardNumber, holderId: events.holderId })
    .from(events)
    .where(isNull(events.dispatchedAt))
    .orderBy(events.sequence)
    .limit(limit)
    .all();
}

export function markDispatched(db: HubDb, sequences: readonly number[], at: string): void {
  if (sequences.length > 0) db.update(events).set({ dispatchedAt: at }).where(inArray(events.sequence, [...sequences])).run();
}
