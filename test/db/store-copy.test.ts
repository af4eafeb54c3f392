import Database from "better-sqlite3";
import type pg from "pg";
import type { HubDb } from "../../src/db/client.ts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { migratePostgres, openPostgresPool } from "../../src/db/pg-client.ts";
import { copyPlan, POSTGRES_ONLY_TABLES } from "../../src/db/store-copy-plan.ts";
import { copyStore, StoreCopyError } from "../../src/db/store-copy.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { tempServices } from "../helpers/temp-hub.ts";
import { canonical, seededHub, sqliteTableNames } from "./store-copy-fixture.ts";

let target: TestDatabase;
let pool: pg.Pool;
const opened: Database.Database[] = [];

beforeEach(async () => {
  target = await createTestDatabase();
  pool = openPostgresPool({ url: target.url, maxConnections: 3, statementTimeoutMs: 30_000, connectTimeoutMs: 5_000 });
});
afterEach(async () => {
  await pool.end();
  await target.drop();
  for (const db of opened.splice(0)) db.close();
});

function hub(holders?: number): HubDb {
  const seeded = seededHub(holders);
  opened.push(seeded.sqlite);
  return seeded.db;
}

const pgRows = async (table: string) => (await pool.query(`SELECT * FROM "${table}"`)).rows as Record<string, unknown>[];
const pgCount = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n;
const lastSequence = async () => (await pool.query<{ s: number }>("SELECT last_sequence AS s FROM event_sequence")).rows[0].s;

describe("store copy", () => {
  it("copies every table of the schema, row by row, and both databases hold no other table", async () => {
    const db = hub();
    const sqlite = db.$client;
    const plan = copyPlan().map((table) => table.name);
    // A table added to schema.ts and missing here, or a table a migration makes outside schema.ts, fails this.
    expect(sqliteTableNames(sqlite)).toEqual([...plan].sort());
    const report = await copyStore(db, pool);
    const { rows } = await pool.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(rows.map((row) => row.name)).toEqual([...plan, ...POSTGRES_ONLY_TABLES].sort());
    expect(report.tables.map((table) => table.name)).toEqual(plan);
    for (const table of plan) {
      const source = sqlite.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[];
      // The fixture must exercise every table (deferred_indexes is SQLite's own and empty after open).
      if (table !== "deferred_indexes") expect(source.length, table).toBeGreaterThan(0);
      expect(canonical(await pgRows(table)), table).toEqual(canonical(source));
      expect(report.tables.find((entry) => entry.name === table)?.rows).toBe(source.length);
    }
    const maxSequence = (sqlite.prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;
    expect(report.maxSequence).toBe(maxSequence);
  });

  it("moves the event counter and the identities past what SQLite ever handed out", async () => {
    const db = hub();
    const sqlite = db.$client;
    const mark = (table: string) => (sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(table) as { seq: number }).seq;
    const report = await copyStore(db, pool);
    // The fixture deleted the newest event: the counter follows sqlite_sequence, not max(sequence).
    expect(report.lastSequence).toBe(mark("events"));
    expect(report.lastSequence).toBe(report.maxSequence + 1);
    expect(await lastSequence()).toBe(mark("events"));
    const event = await pool.query<{ sequence: number }>(
      "INSERT INTO events (type, card_number, issue_count, holder_id, occurred_at, data) VALUES ('CARD_ISSUED', 'X', 0, 1, '2025-07-01T00:00:00.000Z', '{}') RETURNING sequence",
    );
    expect(event.rows[0].sequence).toBe(mark("events") + 1);
    const trigger = await pool.query("SELECT tgenabled FROM pg_trigger WHERE tgname = 'events_assign_sequence'");
    expect(trigger.rows).toEqual([{ tgenabled: "O" }]);
    const holder = await pool.query<{ id: number }>(
      "INSERT INTO holders (status_changed_at, current_number, created_at) VALUES ('2025-07-01', 'X', '2025-07-01') RETURNING id",
    );
    expect(holder.rows[0].id).toBe(mark("holders") + 1);
    const delivery = await pool.query<{ id: number }>(
      "INSERT INTO webhook_deliveries (subscription_id, event_id, event_time, attempt, status, created_at) VALUES ('sub_a', 'evt_new', 'now', 1, 'PENDING', 'now') RETURNING id",
    );
    expect(delivery.rows[0].id).toBe(mark("webhook_deliveries") + 1);
  });

  it("refuses a target with any row in a hub table, naming it, and changes nothing there", async () => {
    const db = hub();
    const sqlite = db.$client;
    await migratePostgres(pool);
    await pool.query("INSERT INTO hub_meta (key, value) VALUES ('database_id', 'db_other')");
    const error = await copyStore(db, pool).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreCopyError);
    expect((error as Error).message).toMatch(/not empty: table hub_meta has rows/);
    expect(await pgRows("hub_meta")).toEqual([{ key: "database_id", value: "db_other" }]);
    for (const table of copyPlan()) if (table.name !== "hub_meta") expect(await pgCount(table.name), table.name).toBe(0);
    expect(await lastSequence()).toBe(0);
    expect(sqlite.inTransaction).toBe(false);
  });

  it("rolls everything back when a row is rejected mid-copy", async () => {
    const db = hub();
    const sqlite = db.$client;
    const victim = (sqlite.prepare("SELECT number FROM cards ORDER BY rowid DESC LIMIT 1").get() as { number: string }).number;
    await migratePostgres(pool);
    // A real rejection from the server: a constraint the target has and the source's last card breaks.
    await pool.query(`ALTER TABLE cards ADD CONSTRAINT copy_test_reject CHECK (number <> '${victim}')`);
    const error = await copyStore(db, pool, { batchRows: 7 }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toMatch(/copying table cards failed after \d+ rows: .*copy_test_reject/);
    for (const table of copyPlan()) expect(await pgCount(table.name), table.name).toBe(0);
    expect(await lastSequence()).toBe(0);
    const trigger = await pool.query("SELECT tgenabled FROM pg_trigger WHERE tgname = 'events_assign_sequence'");
    expect(trigger.rows).toEqual([{ tgenabled: "O" }]);
  });

  it("writes nothing when the source changed while it was copied (a hub still running)", async () => {
    const db = hub();
    const sqlite = db.$client;
    const other = new Database(sqlite.name);
    opened.push(other);
    const onTable = ({ name }: { name: string }) => {
      if (name === "cards") other.prepare("UPDATE partners SET name = name || ' (renamed)'").run();
    };
    const error = await copyStore(db, pool, { onTable }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toMatch(/source database changed during the copy/);
    for (const table of copyPlan()) expect(await pgCount(table.name), table.name).toBe(0);
  });

  it("refuses a source whose write lock is held", async () => {
    const db = hub();
    const sqlite = db.$client;
    const other = new Database(sqlite.name);
    opened.push(other);
    other.exec("BEGIN IMMEDIATE");
    const error = await copyStore(db, pool).catch((thrown: unknown) => thrown);
    other.exec("ROLLBACK");
    expect((error as Error).message).toMatch(/being written to/);
    for (const table of copyPlan()) expect(await pgCount(table.name), table.name).toBe(0);
  });
});

describe("store copy throughput", () => {
  it("copies 100,000 cards with their holders and events, reporting cards/s", async () => {
    const db = tempServices().db;
    opened.push(db.$client);
    db.$client.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
      INSERT INTO holders (id, status_changed_at, current_number, created_at, current_version, province_code, nationality, since)
        SELECT i, '2025-01-01T00:00:00.000Z', printf('9%017d', i), '2025-01-01T00:00:00.000Z', 'V2023', '11', 'USA', '2024-01-01' FROM n;
      INSERT INTO cards (number, issue_count, version, holder_id, state, valid_from, valid_until, state_changed_at, province_code, nationality, birth_date, sex, issue_digest, created_at)
        SELECT current_number, 0, 'V2023', id, 'VALID', '2024-01-01', '2034-01-01', '2025-01-01T00:00:00.000Z', '11', 'USA', '1980-01-01', 'F', hex(randomblob(16)), '2025-01-01T00:00:00.000Z' FROM holders;
      INSERT INTO events (type, card_number, issue_count, holder_id, occurred_at, data)
        SELECT 'CARD_ISSUED', current_number, 0, id, '2025-01-01T00:00:00.000Z', '{"version":"V2023"}' FROM holders ORDER BY id;
    `);
    const report = await copyStore(db, pool);
    const cards = report.tables.find((table) => table.name === "cards")!;
    expect(cards.rows).toBe(100_000);
    expect(await pgCount("cards")).toBe(100_000);
    expect(report.maxSequence).toBe(100_000);
    const perSecond = (rows: number, ms: number) => Math.round((rows / ms) * 1000);
    console.log(
      `store copy: cards ${perSecond(cards.rows, cards.ms)}/s; ` +
        report.tables.filter((table) => table.rows > 0).map((table) => `${table.name} ${table.rows} in ${Math.round(table.ms)} ms`).join(", ") +
        `; whole copy ${Math.round(report.ms)} ms`,
    );
  }, 180_000);
});
