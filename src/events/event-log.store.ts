import { inArray, isNull } from "drizzle-orm";
import { preparedOnce, type HubDb } from "../db/client.ts";
import { events } from "../db/schema.ts";
import { eventVisibleSql } from "./event-visibility.ts";

/** The events table's columns under the names of a StoredEvent: the one SELECT list of every read of whole events. */
const EVENT_COLUMNS = "sequence, type, card_number AS cardNumber, issue_count AS issueCount, holder_id AS holderId, occurred_at AS occurredAt, data";

/** A whole event as stored: `data` is still JSON text (event-log.ts reads it into a StoredEvent). */
export type EventRow = Pick<typeof events.$inferSelect, "sequence" | "type" | "cardNumber" | "issueCount" | "holderId" | "occurredAt" | "data">;

const EVENT_BY_SEQUENCE = `SELECT ${EVENT_COLUMNS} FROM events WHERE sequence = ?`;

/** One stored event by sequence (prepared once per connection: fan-out and delivery read one per job). */
export function eventRowOf(db: HubDb, sequence: number): EventRow | undefined {
  return preparedOnce<[number], EventRow>(db, EVENT_BY_SEQUENCE).get(sequence);
}

/** Events whose deliveries are not yet written to the ledger (still in the outbox), oldest first. */
export function undispatchedEvents(db: HubDb, limit: number): Pick<EventRow, "sequence" | "type" | "cardNumber" | "holderId">[] {
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

/** What one page of the change feed asks for (see ChangeFeed.page). */
export interface FeedPageQuery {
  /** Events after this sequence. */
  after: number;
  /** A JSON array of event types, or null for every type. */
  types: string | null;
  /** 1 when the reader sees every event. */
  all: 0 | 1;
  /** 1 when the reader may read lineage. */
  lineage: 0 | 1;
  partner: string | null;
  limit: number;
}

/** The change feed's page statement, prepared once: the events a reader may see, in sequence order. */
export function prepareFeedPage(db: HubDb): (query: FeedPageQuery) => EventRow[] {
  const page = db.$client.prepare<[FeedPageQuery], EventRow>(`
      SELECT ${EVENT_COLUMNS}
      FROM events
      WHERE sequence > @after
        AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
        AND ${eventVisibleSql({ cardNumber: "events.card_number", holderId: "events.holder_id" }, { seesAll: "@all = 1", lineage: "@lineage = 1", partnerId: "@partner" })}
      ORDER BY sequence
      LIMIT @limit`);
  return (query) => page.all(query);
}

/** How many committed events are still in the outbox (their deliveries not yet in the ledger): /metrics' backlog. */
export function countUndispatched(db: HubDb): number {
  return preparedOnce<[], { n: number }>(db, "SELECT count(*) AS n FROM events WHERE dispatched_at IS NULL").get()!.n;
}
