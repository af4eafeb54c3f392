/**
 * The closed sets of values that enum-valued text columns hold, one home per list. db/schema.ts
 * types those columns with them (`.$type<CardState>()`, which changes no migration: SQLite stores
 * the same text), so a row read from them needs no cast. The kernel imports no domain folder, not
 * even a type, so each list lives here and its domain re-exports it (cards/card-state.ts,
 * events/event-catalogue.ts, partners/roles.ts, partners/partner-service.ts, partners/audit-log.ts,
 * webhooks/subscription-service.ts).
 */

export type CardState = "VALID" | "EXPIRED" | "SUPERSEDED" | "REPORTED_LOST" | "REVOKED";

export const HOLDER_STATUSES = ["ACTIVE", "CANCELLED", "NATURALIZED", "DECEASED"] as const;
export type HolderStatus = (typeof HOLDER_STATUSES)[number];

export const EVENT_TYPES = [
  "CARD_ISSUED",
  "CARD_SUPERSEDED",
  "CARD_REPORTED_LOST",
  "CARD_REVOKED",
  "CARD_EXPIRED",
  "HOLDER_STATUS_CHANGED",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ROLES = ["ISSUER", "PARTNER", "ADMIN", "VIEWER"] as const;
export type Role = (typeof ROLES)[number];

export const INDUSTRIES = [
  "ACCOMMODATION",
  "RAIL",
  "AVIATION",
  "SHIPPING",
  "BANKING",
  "PAYMENTS",
  "TELECOM",
  "ONLINE_SERVICES",
  "GOVERNMENT",
  "OTHER",
] as const;
export type Industry = (typeof INDUSTRIES)[number];

export const ADAPTATION_STATES = ["NOT_STARTED", "IN_PROGRESS", "READY"] as const;
export type AdaptationState = (typeof ADAPTATION_STATES)[number];

export const CONFORMANCE_STATES = ["NOT_RUN", "RUNNING", "PASSED", "FAILED"] as const;
export type ConformanceState = (typeof CONFORMANCE_STATES)[number];

/** A check, a verification, or a number added to / removed from a watchlist. */
export type AuditKind = "CHECK" | "VERIFY" | "WATCH" | "UNWATCH";

/** webhook_subscriptions.status: ACTIVE receives deliveries; PAUSED by its partner; DISABLED by the hub. */
export const SUBSCRIPTION_STATUSES = ["ACTIVE", "PAUSED", "DISABLED"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** webhook_deliveries.status: how one delivery attempt stands. */
export const DELIVERY_STATUSES = ["PENDING", "SUCCEEDED", "FAILED", "DEAD"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** conformance_runs.state: RUNNING until graded. */
export type ConformanceRunState = "RUNNING" | "PASSED" | "FAILED";
