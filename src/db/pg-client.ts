import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { packagePath } from "../package-root.ts";
import * as pgSchema from "./pg-schema.ts";

/**
 * The PostgreSQL client: a bounded pool, and the migrations of `drizzle/pg/` applied under an
 * advisory lock. Settings are handed in (config parsing is src/config/'s); nothing here reads the
 * environment. Not wired into the hub's start yet: the stores are synchronous SQLite code today.
 */

export type PgHubDb = NodePgDatabase<typeof pgSchema> & { $client: pg.Pool };

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Connections the pool opens at most. */
  maxConnections: number;
  /** The server cancels a statement running longer than this (ms). */
  statementTimeoutMs: number;
  /** How long to wait for a connection, new or from the pool, before failing (ms). */
  connectTimeoutMs: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Told of an error on an idle connection (a server restart); the pool drops that connection. */
  onIdleError?: (error: Error) => void;
}

const MIGRATIONS_FOLDER = packagePath("drizzle", "pg");

/** The advisory lock key migrations take: "fprh" in ASCII, fixed so every hub process agrees. */
export const MIGRATION_LOCK_KEY = 0x66707268;

/**
 * int8 (bigint, count(*), sum of integers) is read as a JS number, as SQLite's integers are, so
 * common-subset SQL returns the same values on both; every int8 the hub stores (sequences, Unix
 * ms) is below 2^53. A larger value throws instead of being silently rounded. pg's parsers are
 * process-wide, and drizzle's queries fall back to them, so this is set there.
 */
function readInt8AsNumber(): void {
  pg.types.setTypeParser(pg.types.builtins.INT8, (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} does not fit a JS number`);
    return value;
  });
}

/** Opens the pool (connections are made on demand); no query runs yet. */
export function openPostgresPool(options: PostgresOptions): pg.Pool {
  readInt8AsNumber();
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    statement_timeout: options.statementTimeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName ?? "fpr-hub",
  });
  // Without a listener an idle connection's error (the server restarting) would end the process.
  pool.on("error", (error) => options.onIdleError?.(error));
  return pool;
}

/**
 * Applies pending migrations, once however many processes start together: each takes the same
 * session-level advisory lock on a connection of its own first, so one migrates while the others
 * wait, and those then find nothing left to apply (drizzle's migrate runs them in one transaction
 * and records each in drizzle.__drizzle_migrations). Waiting for the lock, and a long migration,
 * must not hit the pool's statement timeout: that connection runs without one, and is closed
 * afterwards rather than handed back, taking its settings (and, on any failure, the lock) with it.
 */
export async function migratePostgres(pool: pg.Pool, migrationsFolder = MIGRATIONS_FOLDER): Promise<void> {
  const connection = await pool.connect();
  try {
    await connection.query("SET statement_timeout = 0");
    await connection.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migrate(drizzle({ client: connection }), { migrationsFolder });
    await connection.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
  } finally {
    connection.release(true);
  }
}

/** Opens the pool, applies pending migrations, and returns the drizzle client over the pool. */
export async function openPostgresDatabase(options: PostgresOptions): Promise<PgHubDb> {
  const pool = openPostgresPool(options);
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return drizzle({ client: pool, schema: pgSchema });
}

/** Closes every connection of the pool once the queries running on them end. */
export async function closePostgresDatabase(db: PgHubDb): Promise<void> {
  await db.$client.end();
}
