import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { EventType } from "./column-types.ts";

/** The event log (outbox) and the database's own bookkeeping. Part of db/schema.ts (see there). */

/** The ordered event log, which is also the outbox the webhook relay drains. */
export const events = sqliteTable(
  "events",
  {
    sequence: integer("sequence").primaryKey({ autoIncrement: true }),
    type: text("type").$type<EventType>().notNull(),
    cardNumber: text("card_number").notNull(),
    issueCount: integer("issue_count").notNull(),
    holderId: integer("holder_id").notNull(),
    occurredAt: text("occurred_at").notNull(),
    data: text("data").notNull(),
    /**
     * When the event's deliveries were written to `owed_deliveries` (its fan-out, a database step
     * that needs no Redis). Null while it is still in the outbox.
     */
    dispatchedAt: text("dispatched_at"),
  },
  (table) => [
    index("events_undispatched_idx").on(table.sequence).where(sql`dispatched_at IS NULL`),
    index("events_card_idx").on(table.cardNumber),
    index("events_holder_idx").on(table.holderId),
  ],
);

/**
 * Facts about this database itself. `database_id` names it in job ids; it is renewed when the
 * hub finds the database behind what Redis has seen (a restore, or a new database on an old
 * Redis), so no job of its earlier life is taken for one of its own.
 */
export const hubMeta = sqliteTable("hub_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/**
 * Secondary indexes dropped for a first bulk load (`import --no-events`) and rebuilt when it ends;
 * rows left here by an interrupted load are rebuilt the next time the database is opened.
 */
export const deferredIndexes = sqliteTable("deferred_indexes", {
  name: text("name").primaryKey(),
  /** The index's CREATE INDEX statement, as SQLite recorded it. */
  ddl: text("ddl").notNull(),
});
