import path from "node:path";
import pg from "pg";
import { vi } from "vitest";
import { openDatabase, type HubDb } from "../../src/db/client.ts";
import type { SqlExecutor } from "../../src/db/executor.ts";
import { pgExecutor } from "../../src/db/pg-executor.ts";
import { migratePostgres, openPostgresPool } from "../../src/db/pg-client.ts";
import { sqliteExecutor } from "../../src/db/sqlite-executor.ts";
import type { Dialect, Statement } from "../../src/db/statement.ts";
import { createTestDatabase } from "../helpers/postgres.ts";
import { tempDir } from "../helpers/temp-dir.ts";

/**
 * The executor contract's two subjects: SQLite in a temp file opened as the hub opens it
 * (openDatabase: migrations, pragmas), PostgreSQL in a database of the test file's own with the
 * PostgreSQL migrations applied. Both get the same scratch tables beside the real ones.
 */
export interface Subject {
  dialect: Dialect;
  executor: SqlExecutor;
  /** Counts how often the real client prepares `statement` (a spy: the real prepare still runs). */
  countPrepares(statement: Statement<unknown, unknown>): { count(): number; restore(): void };
  close(): Promise<void>;
}

/** Same DDL on both: integer and text mean the same there. */
const SCRATCH_TABLES = [
  "CREATE TABLE scratch_counter (id integer PRIMARY KEY, n integer NOT NULL)",
  "CREATE TABLE scratch_items (name text PRIMARY KEY, note text)",
  "INSERT INTO scratch_counter (id, n) VALUES (1, 0)",
];

export const SUBJECTS: { dialect: Dialect; open: () => Promise<Subject> }[] = [
  { dialect: "sqlite", open: openSqliteSubject },
  { dialect: "postgres", open: openPostgresSubject },
];

async function openSqliteSubject(): Promise<Subject> {
  const db: HubDb = openDatabase(path.join(tempDir("fpr-hub-executor-"), "hub.sqlite"));
  for (const sql of SCRATCH_TABLES) db.$client.exec(sql);
  const executor = sqliteExecutor(db);
  return {
    dialect: "sqlite",
    executor,
    countPrepares(statement) {
      const spy = vi.spyOn(db.$client, "prepare");
      return { count: () => spy.mock.calls.filter(([text]) => text === statement.sqlite.text).length, restore: () => spy.mockRestore() };
    },
    close: () => executor.close(),
  };
}

async function openPostgresSubject(): Promise<Subject> {
  const database = await createTestDatabase();
  const pool = openPostgresPool({ url: database.url, maxConnections: 5, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
  await migratePostgres(pool);
  for (const sql of SCRATCH_TABLES) await pool.query(sql);
  const executor = pgExecutor(pool);
  return {
    dialect: "postgres",
    executor,
    countPrepares(statement) {
      // Each Parse message pg sends: a named statement is parsed once per connection.
      const spy = vi.spyOn(pg.Connection.prototype, "parse");
      return { count: () => spy.mock.calls.filter(([query]) => query.name === statement.postgres.name).length, restore: () => spy.mockRestore() };
    },
    close: async () => {
      await executor.close();
      await database.drop();
    },
  };
}

/** A promise and its resolve, for steering concurrent work. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
