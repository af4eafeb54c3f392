import type Database from "better-sqlite3";
import type { HubDb } from "../../src/db/client.ts";
import { seedDemo } from "../../src/demo/demo-seed.ts";
import { tempDir, tempServices } from "../helpers/temp-hub.ts";

/**
 * A SQLite hub for `store copy` tests: the demo seed (register, events, partners, keys) on a real
 * migrated file, plus rows the seed does not write (subscriptions, watchlists, owed deliveries, the
 * delivery log, audit records, conformance runs, the database identity) and deleted rows, so SQLite's
 * AUTOINCREMENT marks stand above the highest ids left. Every hub table ends up with rows except
 * the SQLite-only `deferred_indexes`.
 */
export function seededHub(holders = 60): { db: HubDb; sqlite: Database.Database } {
  const services = tempServices();
  const partner = seedDemo(services, tempDir(), holders).partnerId;
  const sqlite = services.db.$client;
  const key = (sqlite.prepare("SELECT id FROM api_keys WHERE partner_id = ?").get(partner) as { id: string }).id;
  const sequence = (sqlite.prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;
  sqlite.exec(`
    INSERT INTO hub_meta (key, value) VALUES ('database_id', 'db_copytest') ON CONFLICT (key) DO NOTHING;
    INSERT INTO webhook_subscriptions (id, partner_id, key_id, url, event_types, secret_sealed, parked_until, created_at)
      VALUES ('sub_a', '${partner}', '${key}', 'https://example.test/hook', 'CARD_REVOKED', 'sealed:v1:abc', 1750000000000, '2025-06-15T04:00:00.000Z');
    INSERT INTO watched_numbers (partner_id, number, created_at) VALUES ('${partner}', '911124198108030024', '2025-06-15T04:00:00.000Z');
    INSERT INTO owed_deliveries (subscription_id, sequence, lane, due_at, lease_until, lease_job, created_at)
      VALUES ('sub_a', ${sequence}, 'urgent', 1750000000000, NULL, NULL, '2025-06-15T04:00:00.000Z'),
             ('sub_a', ${sequence - 1}, 'bulk', 1750000000001, 1750000009999, 'job-1', '2025-06-15T04:00:00.000Z');
    INSERT INTO webhook_deliveries (subscription_id, event_id, sequence, event_time, attempt, status, response_status, latency_ms, error, created_at)
      VALUES ('sub_a', 'evt_1', ${sequence}, '2025-06-15T04:00:00.000Z', 1, 'FAILED', 500, 12, 'HTTP 500', '2025-06-15T04:00:00.000Z'),
             ('sub_a', 'evt_test', NULL, '2025-06-15T04:00:00.000Z', 1, 'SUCCEEDED', 200, 3, NULL, '2025-06-15T04:00:01.000Z'),
             ('sub_a', 'evt_gone', NULL, '2025-06-15T04:00:00.000Z', 1, 'SUCCEEDED', 200, 3, NULL, '2025-06-15T04:00:02.000Z');
    INSERT INTO audit_log (id, at, kind, key_id, partner_id, number_digest, version, result)
      VALUES ('aud_1', '2025-06-15T04:00:00.000Z', 'CHECK', '${key}', '${partner}', 'digest', 'V2023', 'VALID');
    INSERT INTO conformance_runs (id, partner_id, state, started_at, finished_at, detail)
      VALUES ('run_1', '${partner}', 'PASSED', '2025-06-15T04:00:00.000Z', '2025-06-15T04:01:00.000Z', '{"score":1}');
    DELETE FROM webhook_deliveries WHERE event_id = 'evt_gone';
    DELETE FROM events WHERE sequence = ${sequence};
  `);
  return { db: services.db, sqlite };
}

/** The SQLite tables a hub database holds besides its own (drizzle's migration log, AUTOINCREMENT marks). */
export const SQLITE_HOUSEKEEPING = ["__drizzle_migrations", "sqlite_sequence"];

export function sqliteTableNames(sqlite: Database.Database): string[] {
  const rows = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_stat%'").all() as { name: string }[];
  return rows.map((row) => row.name).filter((name) => !SQLITE_HOUSEKEEPING.includes(name)).sort();
}

/** A table's rows as comparable text, in a fixed order (sorted here: the two databases collate differently). */
export function canonical(rows: Record<string, unknown>[]): string[] {
  return rows
    .map((row) => JSON.stringify(Object.keys(row).sort().map((column) => [column, typeof row[column] === "bigint" ? Number(row[column]) : row[column]])))
    .sort();
}
