/**
 * Table definitions, one file per concern, gathered here (drizzle.config.ts and every store read
 * this file). Migrations in `drizzle/` are generated from it by drizzle-kit (`npm run db:generate`)
 * and never edited by hand. Times are ISO-8601 UTC text, dates YYYY-MM-DD. Enum-valued text columns
 * carry their values' type (`$type`, see column-types.ts): SQL unchanged.
 */
export * from "./schema-register.ts";
export * from "./schema-events.ts";
export * from "./schema-partners.ts";
export * from "./schema-webhooks.ts";
