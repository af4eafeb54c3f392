import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { AdaptationState, AuditKind, ConformanceRunState, ConformanceState, Industry, Role } from "./column-types.ts";

/** Partners, their API keys, the audit trail and conformance runs. Part of db/schema.ts (see there). */

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
