import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
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
 * The PostgreSQL dialect of schema.ts: the same tables, columns, indexes and keys under the same
 * names, so store SQL written in the common subset runs on both (test/db/pg-schema.test.ts fails
 * when the two differ). What each table and column means is documented in schema.ts; comments here
 * say only where PostgreSQL needs a choice. drizzle-kit generates `drizzle/pg/` from this file.
 *
 * Types: text stays text (ISO times, dates, JSON, enum values typed by `$type`); counts and small
 * numbers are `integer`; what grows without bound or holds Unix milliseconds is `bigint`, read as
 * a JS number (every value the hub stores is below 2^53): event sequences and the columns that
 * hold them, delivery-attempt ids, `parked_until`, `due_at`, `lease_until`. SQLite has no boolean
 * columns here (`queued` is a four-state integer), so none are introduced.
 */

/** A 64-bit integer read as a JS number: event sequences, attempt ids and Unix milliseconds. */
const int53 = (name: string) => bigint(name, { mode: "number" });

// SQLite's AUTOINCREMENT ids become identity columns BY DEFAULT, so `store copy` can keep the ids
// (it must then move the identity past them). Holder ids stay 32-bit like the cards that name them.
export const holders = pgTable("holders", {
  id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
  status: text("status").$type<HolderStatus>().notNull().default("ACTIVE"),
  statusChangedAt: text("status_changed_at").notNull(),
  statusReason: text("status_reason"),
  currentNumber: text("current_number").notNull(),
  englishNameDigest: text("english_name_digest"),
  chineseNameDigest: text("chinese_name_digest"),
  createdAt: text("created_at").notNull(),
  currentVersion: text("current_version"),
  provinceCode: text("province_code"),
  nationality: text("nationality"),
  since: text("since"),
  v2023Since: text("v2023_since"),
}, (table) => [
  index("holders_status_idx").on(table.status, table.currentVersion),
  index("holders_province_rollout_idx").on(table.status, table.provinceCode, table.currentVersion),
  index("holders_nationality_rollout_idx").on(table.status, table.nationality, table.currentVersion),
  index("holders_since_idx").on(table.since),
  index("holders_v2023_since_idx").on(table.v2023Since),
]);

export const cards = pgTable("cards", {
  number: text("number").notNull(),
  issueCount: integer("issue_count").notNull(),
  version: text("version").notNull(),
  holderId: integer("holder_id").notNull().references(() => holders.id),
  state: text("state").$type<CardState>().notNull(),
  validFrom: text("valid_from").notNull(),
  validUntil: text("valid_until").notNull(),
  stateChangedAt: text("state_changed_at").notNull(),
  previousNumber: text("previous_number"),
  provinceCode: text("province_code").notNull(),
  nationality: text("nationality").notNull(),
  birthDate: text("birth_date").notNull(),
  sex: text("sex"),
  issueDigest: text("issue_digest").notNull(),
  revocationReason: text("revocation_reason"),
  createdAt: text("created_at").notNull(),
}, (table) => [
  primaryKey({ columns: [table.number, table.issueCount] }),
  index("cards_holder_idx").on(table.holderId),
  index("cards_previous_number_idx").on(table.previousNumber),
]);

/**
 * The event log (outbox). `sequence` is NOT an identity or serial column: those hand out values
 * before commit, so a reader could read 8 while 7 is still uncommitted and skip 7 for good. It is
 * assigned by the trigger `events_assign_sequence` (migration drizzle/pg/0001) from the one row of
 * `event_sequence`, inside the inserting transaction; see `eventSequence` below for why that gives
 * commit order. Insert events without a sequence, as on SQLite (`$defaultFn` only tells drizzle's
 * typed insert so; it sends DEFAULT and the trigger fills it in).
 */
export const events = pgTable("events", {
  sequence: int53("sequence").primaryKey().$defaultFn(() => sql`DEFAULT`),
  type: text("type").$type<EventType>().notNull(),
  cardNumber: text("card_number").notNull(),
  issueCount: integer("issue_count").notNull(),
  holderId: integer("holder_id").notNull(),
  occurredAt: text("occurred_at").notNull(),
  data: text("data").notNull(),
  dispatchedAt: text("dispatched_at"),
}, (table) => [
  index("events_undispatched_idx").on(table.sequence).where(sql`dispatched_at IS NULL`),
  index("events_card_idx").on(table.cardNumber),
  index("events_holder_idx").on(table.holderId),
]);

/**
 * PostgreSQL only: the last event sequence handed out (deleted events included), in one row; the
 * counterpart of SQLite's `sqlite_sequence` entry for `events`, and never lowered. The trigger on
 * `events` takes `last_sequence + 1` with an UPDATE of this row, which stays locked until the
 * event's transaction ends: the next event writer waits for that commit (or rollback, which gives
 * the number back), so sequences are handed out in commit order and a reader that has seen N will
 * never see a lower one appear. Event-writing transactions thus commit one at a time from their
 * first event on (write events late; READ COMMITTED). Design and its price: src/db/README.md.
 */
export const eventSequence = pgTable("event_sequence", {
  id: integer("id").primaryKey(),
  lastSequence: int53("last_sequence").notNull(),
}, () => [check("event_sequence_one_row", sql`id = 1`)]);

export const partners = pgTable("partners", {
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

export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  partnerId: text("partner_id").references(() => partners.id),
  role: text("role").$type<Role>().notNull(),
  scopes: text("scopes").notNull(),
  prefix: text("prefix").notNull(),
  secretDigest: text("secret_digest").notNull(),
  createdAt: text("created_at").notNull(),
  lastUsedAt: text("last_used_at"),
  revokedAt: text("revoked_at"),
}, (table) => [uniqueIndex("api_keys_secret_digest_idx").on(table.secretDigest)]);

export const watchedNumbers = pgTable("watched_numbers", {
  partnerId: text("partner_id").notNull().references(() => partners.id),
  number: text("number").notNull(),
  createdAt: text("created_at").notNull(),
}, (table) => [primaryKey({ columns: [table.partnerId, table.number] })]);

export const webhookSubscriptions = pgTable("webhook_subscriptions", {
  id: text("id").primaryKey(),
  partnerId: text("partner_id").notNull().references(() => partners.id),
  keyId: text("key_id").notNull().references(() => apiKeys.id),
  url: text("url").notNull(),
  eventTypes: text("event_types").notNull(),
  status: text("status").$type<SubscriptionStatus>().notNull().default("ACTIVE"),
  disabledReason: text("disabled_reason"),
  secretSealed: text("secret_sealed").notNull(),
  previousSecretSealed: text("previous_secret_sealed"),
  previousSecretUntil: text("previous_secret_until"),
  lastSuccessAt: text("last_success_at"),
  failuresSinceSuccess: integer("failures_since_success").notNull().default(0),
  parkedUntil: int53("parked_until"),
  createdAt: text("created_at").notNull(),
}, (table) => [index("webhook_subscriptions_partner_idx").on(table.partnerId)]);

// The partial indexes are kept as they are: PostgreSQL has them too.
export const owedDeliveries = pgTable("owed_deliveries", {
  subscriptionId: text("subscription_id").notNull(),
  sequence: int53("sequence").notNull(),
  lane: text("lane", { enum: ["urgent", "bulk"] }).notNull(),
  tries: integer("tries").notNull().default(0),
  handoff: integer("handoff").notNull().default(0),
  queued: integer("queued").notNull().default(0),
  dueAt: int53("due_at").notNull(),
  leaseUntil: int53("lease_until"),
  leaseJob: text("lease_job"),
  createdAt: text("created_at").notNull(),
}, (table) => [
  primaryKey({ columns: [table.subscriptionId, table.sequence] }),
  index("owed_deliveries_unqueued_idx").on(table.dueAt).where(sql`queued = 0`),
  index("owed_deliveries_queued_idx").on(table.dueAt).where(sql`queued = 1`),
  index("owed_deliveries_sequence_idx").on(table.sequence, table.handoff),
  index("owed_deliveries_parked_idx").on(table.subscriptionId, table.dueAt).where(sql`queued = 2`),
  index("owed_deliveries_busy_idx").on(table.subscriptionId, table.dueAt).where(sql`queued = 3`),
  index("owed_deliveries_busy_due_idx").on(table.dueAt).where(sql`queued = 3`),
]);

export const hubMeta = pgTable("hub_meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const webhookDeliveries = pgTable("webhook_deliveries", {
  // One row per attempt over the hub's whole life: 64-bit.
  id: int53("id").primaryKey().generatedByDefaultAsIdentity(),
  subscriptionId: text("subscription_id").notNull(),
  eventId: text("event_id").notNull(),
  sequence: int53("sequence"),
  eventTime: text("event_time").notNull(),
  attempt: integer("attempt").notNull(),
  status: text("status").$type<DeliveryStatus>().notNull(),
  responseStatus: integer("response_status"),
  latencyMs: integer("latency_ms"),
  error: text("error"),
  createdAt: text("created_at").notNull(),
  deliveredAt: text("delivered_at"),
}, (table) => [
  uniqueIndex("webhook_deliveries_attempt_idx").on(table.subscriptionId, table.eventId, table.attempt),
  index("webhook_deliveries_sub_idx").on(table.subscriptionId, table.id),
]);

export const auditLog = pgTable("audit_log", {
  id: text("id").primaryKey(),
  at: text("at").notNull(),
  kind: text("kind").$type<AuditKind>().notNull(),
  keyId: text("key_id"),
  partnerId: text("partner_id"),
  numberDigest: text("number_digest"),
  version: text("version"),
  result: text("result").notNull(),
}, (table) => [index("audit_log_at_idx").on(table.at), index("audit_log_partner_idx").on(table.partnerId, table.at)]);

export const conformanceRuns = pgTable("conformance_runs", {
  id: text("id").primaryKey(),
  partnerId: text("partner_id").notNull().references(() => partners.id),
  state: text("state").$type<ConformanceRunState>().notNull(),
  startedAt: text("started_at").notNull(),
  finishedAt: text("finished_at"),
  detail: text("detail"),
}, (table) => [index("conformance_runs_partner_idx").on(table.partnerId, table.startedAt)]);

// `ddl` holds the index's CREATE INDEX statement as the database reports it (pg_indexes.indexdef here).
export const deferredIndexes = pgTable("deferred_indexes", {
  name: text("name").primaryKey(),
  ddl: text("ddl").notNull(),
});
