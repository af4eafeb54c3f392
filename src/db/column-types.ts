/**
 * The values of the enum-valued text columns of the register, the event log and the partners'
 * tables, so that db/schema.ts can type those columns (`.$type<CardState>()`) and a row read from
 * them needs no cast. The kernel imports no domain folder, not even a type, so each list lives here
 * and its domain re-exports it: this is each list's one home (cards/card-state.ts,
 * events/event-catalogue.ts, partners/roles.ts, partners/partner-service.ts, partners/audit-log.ts).
 * Typing a column changes no migration: SQLite stores the same text.
 */

export const CARD_STATES = ["VALID", "EXPIRED", "SUPERSEDED", "REPORTED_LOST", "REVOKED"] as const;
export type CardState = (typeof CARD_STATES)[number];

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
export const AUDIT_KINDS = ["CHECK", "VERIFY", "WATCH", "UNWATCH"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
