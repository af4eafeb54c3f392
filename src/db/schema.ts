import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type {
  AdaptationState,
  AuditKind,
  CardState,
  ConformanceRunState,
  ConformanceState,
  DeliveryStatus,
  EventType,
  HolderStatus,
  Industry,
  Role,
  SubscriptionStatus,
} from "./column-types.ts";

/**
 * Table definitions. Migrations in `drizzle/` are generated from this file by drizzle-kit
 * (`npm run db:generate`) and never edited by hand. Times are ISO-8601 UTC text, dates YYYY-MM-DD.
 * Enum-valued text columns carry their values' type (`$type`, see column-types.ts): SQL unchanged.
 */

/** A permanent resident. No plaintext names: only keyed digests (see cards/name-digest.ts). */
export const holders = sqliteTable("holders", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  status: text("status").$type<HolderStatus>().notNull().default("ACTIVE"),
  statusChangedAt: text("status_changed_at").notNull(),
  /** The authority's reason for the last status change; never sent to partners. */
  statusReason: text("status_reason"),
  /** The holder's newest card number: follows a V2017 → V2023 switch. */
  currentNumber: text("current_number").notNull(),
  englishNameDigest: text("english_name_digest"),
  chineseNameDigest: text("chinese_name_digest"),
  createdAt: text("created_at").notNull(),
  // Facts of the current card, kept on the holder so rollout figures are one GROUP BY.
  currentVersion: text("current_version"),
  provinceCode: text("province_code"),
  nationality: text("nationality"),
  /** validFrom of the holder's first card, and of their first V2023 card. */
  since: text("since"),
  v2023Since: text("v2023_since"),
}, (table) => [
  // Covering indexes: rollout figures over a million holders read these, not the wide rows.
  index("holders_status_idx").on(table.status, table.currentVersion),
  index("holders_province_rollout_idx").on(table.status, table.provinceCode, table.currentVersion),
  index("holders_nationality_rollout_idx").on(table.status, table.nationality, table.currentVersion),
  index("holders_since_idx").on(table.since),
  index("holders_v2023_since_idx").on(table.v2023Since),
]);

/** A card instance: the number plus its issue count (换证次数). */
export const cards = sqliteTable(
  "cards",
  {
    number: text("number").notNull(),
    issueCount: integer("issue_count").notNull(),
    version: text("version").notNull(),
    holderId: integer("holder_id")
      .notNull()
      .references(() => holders.id),
    state: text("state").$type<CardState>().notNull(),
    validFrom: text("valid_from").notNull(),
    validUntil: text("valid_until").notNull(),
    stateChangedAt: text("state_changed_at").notNull(),
    previousNumber: text("previous_number"),
    provinceCode: text("province_code").notNull(),
    nationality: text("nationality").notNull(),
    birthDate: text("birth_date").notNull(),
    sex: text("sex"),
    /** Keyed digest of the issuing input: an identical repeat is a no-op, a different one a conflict. */
    issueDigest: text("issue_digest").notNull(),
    revocationReason: text("revocation_reason"),
    createdAt: text("created_at").notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.number, table.issueCount] }),
    index("cards_holder_idx").on(table.holderId),
    index("cards_previous_number_idx").on(table.previousNumber),
  ],
);

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

export const partners = sqliteTable("partners", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  industry: text("industry").$type<Industry>().notNull(),
  provinceCode: text("province_code"),
  declaredAdaptation: text("declared_adaptation").$type<AdaptationState>().notNull().default("NOT_STARTED"),
  declaredAt: text("declared_at"),
  lastV2023CheckAt: text("last_v2023_check_at"),
  conformance: text("conformance").$type<ConformanceState>().notNull().default("NOT_RUN"),
  conformanceAt: text("conformance_at"),
  createdAt: text("created_at").notNull(),
});

/** API keys: the secret itself is never stored, only its SHA-256 digest. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id").references(() => partners.id),
    role: text("role").$type<Role>().notNull(),
    /** Comma-separated Scope values. */
    scopes: text("scopes").notNull(),
    prefix: text("prefix").notNull(),
    secretDigest: text("secret_digest").notNull(),
    createdAt: text("created_at").notNull(),
    lastUsedAt: text("last_used_at"),
    revokedAt: text("revoked_at"),
  },
  (table) => [uniqueIndex("api_keys_secret_digest_idx").on(table.secretDigest)],
);

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

/**
 * Facts about this database itself. `database_id` names it in job ids; it is renewed when the
 * hub finds the database behind what Redis has seen (a restore, or a new database on an old
 * Redis), so no job of its earlier life is taken for one of its own.
 */
export const hubMeta = sqliteTable("hub_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

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

/**
 * Every check and verification: who asked, a keyed digest of the number (never the number), the
 * version and the answer. Kept for AUDIT_RETENTION_DAYS.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    at: text("at").notNull(),
    kind: text("kind").$type<AuditKind>().notNull(),
    keyId: text("key_id"),
    partnerId: text("partner_id"),
    numberDigest: text("number_digest"),
    version: text("version"),
    result: text("result").notNull(),
  },
  (table) => [index("audit_log_at_idx").on(table.at), index("audit_log_partner_idx").on(table.partnerId, table.at)],
);

/** Conformance probes: a signed list of synthetic numbers, the partner's answers, the grade. */
export const conformanceRuns = sqliteTable(
  "conformance_runs",
  {
    id: text("id").primaryKey(),
    partnerId: text("partner_id")
      .notNull()
      .references(() => partners.id),
    state: text("state").$type<ConformanceRunState>().notNull(),
    startedAt: text("started_at").notNull(),
    finishedAt: text("finished_at"),
    detail: text("detail"),
  },
  (table) => [index("conformance_runs_partner_idx").on(table.partnerId, table.startedAt)],
);

/**
 * Secondary indexes dropped for a first bulk load (`import --no-events`) and rebuilt when it ends;
 * rows left here by an interrupted load are rebuilt the next time the database is opened.
 */
export const deferredIndexes = sqliteTable("deferred_indexes", {
  name: text("name").primaryKey(),
  /** The index's CREATE INDEX statement, as SQLite recorded it. */
  ddl: text("ddl").notNull(),
});
