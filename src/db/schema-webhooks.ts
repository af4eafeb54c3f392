import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { DeliveryStatus, SubscriptionStatus } from "./column-types.ts";
import { partners, apiKeys } from "./schema-partners.ts";

/** Watchlists, webhook subscriptions, the delivery ledger and the delivery log. Part of db/schema.ts (see there). */

/**
 * Card numbers a partner watches, kept by number whether or not the number is on the register, so
 * watching says nothing about existence or holders. Visibility: src/events/event-visibility.ts.
 */
export const watchedNumbers = sqliteTable(
  "watched_numbers",
  {
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    /** The normalized card number. */
    number: text("number").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.partnerId, table.number] })],
);

/**
 * A partner's webhook endpoint. Signing secrets must be recoverable to sign, so they are stored
 * encrypted under a key derived from the hub secret (see webhooks/secret-box.ts).
 */
export const webhookSubscriptions = sqliteTable(
  "webhook_subscriptions",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    /** The key that created it: its scopes decide what the subscription may receive. */
    keyId: text("key_id")
      .notNull()
      .references(() => apiKeys.id),
    url: text("url").notNull(),
    /** Comma-separated EventType values. */
    eventTypes: text("event_types").notNull(),
    status: text("status").$type<SubscriptionStatus>().notNull().default("ACTIVE"),
    disabledReason: text("disabled_reason"),
    secretSealed: text("secret_sealed").notNull(),
    previousSecretSealed: text("previous_secret_sealed"),
    previousSecretUntil: text("previous_secret_until"),
    lastSuccessAt: text("last_success_at"),
    failuresSinceSuccess: integer("failures_since_success").notNull().default(0),
    /**
     * The endpoint's circuit breaker: after repeated failures nothing is sent to it until this
     * time (Unix ms), then one probe; null when closed. See webhooks/endpoint-breaker.ts.
     */
    parkedUntil: integer("parked_until"),
    createdAt: text("created_at").notNull(),
  },
  (table) => [index("webhook_subscriptions_partner_idx").on(table.partnerId)],
);

/**
 * What the hub still owes: one row per (subscription, event) not yet settled. The database, not
 * Redis, is the truth of delivery: a row is written with the event's fan-out, and deleted when
 * the delivery succeeds, dies, or turns out not to be owed (the subscription paused, deleted or no
 * longer entitled). Redis jobs only carry rows to workers; whatever Redis loses is found here and
 * handed over again (webhooks/delivery-ledger.store.ts, jobs/delivery-reconciler.ts).
 */
export const owedDeliveries = sqliteTable(
  "owed_deliveries",
  {
    subscriptionId: text("subscription_id").notNull(),
    sequence: integer("sequence").notNull(),
    lane: text("lane", { enum: ["urgent", "bulk"] }).notNull(),
    /** Attempts made in this round (a replay starts a new one): the retry schedule's position. */
    tries: integer("tries").notNull().default(0),
    /** Which hand-off carries the row: 0 the event's fan-out job, n > 0 the n-th delivery job. */
    handoff: integer("handoff").notNull().default(0),
    /**
     * 0 no job carries it yet; 1 a job was added to Redis (or a worker holds it); 2 it waits for its
     * endpoint's breaker (parked); 3 it waits for a free slot at its endpoint (busy).
     */
    queued: integer("queued").notNull().default(0),
    /** When the next attempt may run (Unix ms). */
    dueAt: integer("due_at").notNull(),
    /** A worker is attempting it until then (Unix ms), as `lease_job`. */
    leaseUntil: integer("lease_until"),
    leaseJob: text("lease_job"),
    createdAt: text("created_at").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.subscriptionId, table.sequence] }),
    index("owed_deliveries_unqueued_idx").on(table.dueAt).where(sql`queued = 0`),
    index("owed_deliveries_queued_idx").on(table.dueAt).where(sql`queued = 1`),
    index("owed_deliveries_sequence_idx").on(table.sequence, table.handoff),
    index("owed_deliveries_parked_idx").on(table.subscriptionId, table.dueAt).where(sql`queued = 2`),
    index("owed_deliveries_busy_idx").on(table.subscriptionId, table.dueAt).where(sql`queued = 3`),
    index("owed_deliveries_busy_due_idx").on(table.dueAt).where(sql`queued = 3`),
  ],
);

/** One row per delivery attempt: what was sent, what came back. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    subscriptionId: text("subscription_id").notNull(),
    eventId: text("event_id").notNull(),
    /** The event's sequence; null for test events. */
    sequence: integer("sequence"),
    eventTime: text("event_time").notNull(),
    attempt: integer("attempt").notNull(),
    status: text("status").$type<DeliveryStatus>().notNull(),
    responseStatus: integer("response_status"),
    latencyMs: integer("latency_ms"),
    error: text("error"),
    createdAt: text("created_at").notNull(),
    deliveredAt: text("delivered_at"),
  },
  (table) => [
    uniqueIndex("webhook_deliveries_attempt_idx").on(table.subscriptionId, table.eventId, table.attempt),
    index("webhook_deliveries_sub_idx").on(table.subscriptionId, table.id),
  ],
);
