import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { packagePath } from "../package-root.ts";
import { ensurePrivateDir, makePrivate, PRIVATE_FILE_MODE } from "../private-files.ts";
import { restoreDeferredIndexes } from "./deferred-indexes.ts";
import * as schema from "./schema.ts";

export type HubDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS_FOLDER = packagePath("drizzle");

/** The database holds the register: its folder and file are owner-only (see private-files.ts). */
function createPrivately(file: string): void {
  ensurePrivateDir(path.dirname(file));
  fs.closeSync(fs.openSync(file, "a", PRIVATE_FILE_MODE));
  makePrivate(file);
}

/** Opens the SQLite file (WAL), applies pending migrations, and returns the drizzle client. */
export function openDatabase(file: string): HubDb {
  if (file !== ":memory:") createPrivately(file);
  const sqlite = new Database(file);
  sqlite.pragma("journal_mode = WAL");
  // SQLite gives -wal and -shm the database file's mode; older ones are tightened here.
  if (file !== ":memory:") for (const extra of ["-wal", "-shm", "-journal"]) makePrivate(`${file}${extra}`);
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  // Indexes a first bulk load dropped and could not rebuild (it was interrupted).
  restoreDeferredIndexes(sqlite);
  return db as HubDb;
}

const runners = new WeakMap<Database.Database, Database.Transaction<(work: () => unknown) => unknown>>();

/**
 * Runs `work` in one SQLite transaction (BEGIN IMMEDIATE, so writers never deadlock); inside
 * another transaction it becomes a savepoint. One runner per connection: building a transaction
 * function per call costs more than a small write.
 */
export function inTransaction<T>(db: HubDb, work: () => T): T {
  let runner = runners.get(db.$client);
  if (!runner) {
    runner = db.$client.transaction((fn: () => unknown) => fn());
    runners.set(db.$client, runner);
  }
  return runner.immediate(work) as T;
}

/** Whether the database answers a query at all (readiness); throws when it does not. */
export function pingDatabase(db: HubDb): void {
  db.get(sql`SELECT 1`);
}

/** Closes the connection; what services hold in memory must be written first (app/services.ts). */
export function closeDatabase(db: HubDb): void {
  db.$client.close();
}

/**
 * A write that changes nothing: rewrites the header's user_version with its own value (nothing in
 * the hub uses it; drizzle keeps migrations in a table). It commits a page like any write, so it
 * fails while the disk is full: the storage monitor's probe.
 */
export function probeWrite(db: HubDb): void {
  const version = Number(db.$client.pragma("user_version", { simple: true }));
  db.$client.pragma(`user_version = ${Number.isSafeInteger(version) ? version : 0}`);
}

/**
 * One write whose RETURNING row is read with `.get()` (drizzle's `.returning().get()`), run in a
 * transaction. better-sqlite3's get() steps once and resets the statement; in autocommit mode
 * the commit happens in that reset, and its error (SQLITE_FULL when the WAL cannot grow on a full
 * disk) is not reported: the caller would be handed a row that was never stored (a key "created",
 * a revocation "done"). In a transaction COMMIT is a statement of its own, and its error is thrown.
 */
export function writeReturning<T>(db: HubDb, write: () => T): T {
  return inTransaction(db, write);
}

const preparedByConnection = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * The statement for `sql` on this connection, prepared the first time it is asked for and kept
 * (per connection, by its text): for store functions that have no object to hold a statement, and
 * for stores whose statements name tables an older hub's database may not have yet.
 */
export function preparedOnce<P extends unknown[] | object = unknown[], R = unknown>(db: HubDb, sql: string): Database.Statement<P, R> {
  let cache = preparedByConnection.get(db.$client);
  if (!cache) preparedByConnection.set(db.$client, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.$client.prepare(sql)));
  return statement as Database.Statement<P, R>;
}

/** Statements by name, each prepared on first use (preparedOnce). */
export function lazyStatements<K extends string>(db: HubDb, sql: Readonly<Record<K, string>>): (name: K) => Database.Statement {
  return (name) => preparedOnce(db, sql[name]);
}
