import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { CardState, HolderStatus } from "./column-types.ts";

/** The register: holders and their card instances. Part of db/schema.ts (see there). */

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
