import { randomBytes } from "node:crypto";
import pg from "pg";
import type { PostgresOptions } from "../../src/db/pg-client.ts";

/**
 * A database of its own per test file, on the PostgreSQL named by TEST_POSTGRES_URL (an admin URL:
 * it may create and drop databases). Stand-in until the shared test/helpers/postgres.ts
 * (createTestDatabase, a private cluster) lands; the files using it switch to that at the merge.
 * Without TEST_POSTGRES_URL these files skip, saying why (ADMIN_URL is null).
 */
export const ADMIN_URL = process.env.TEST_POSTGRES_URL?.trim() || null;

export const SKIP_NOTE = ADMIN_URL ? "" : " (SKIPPED: set TEST_POSTGRES_URL to an admin URL of a PostgreSQL to run these)";

export interface ScratchDatabase {
  url: string;
  /** Pool settings for this database, as the hub would pass them. */
  options(overrides?: Partial<PostgresOptions>): PostgresOptions;
  drop(): Promise<void>;
}

async function asAdmin(statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL ?? undefined });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** Creates an empty database with a random name; `drop` removes it, ending its connections. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  if (!ADMIN_URL) throw new Error("TEST_POSTGRES_URL is not set");
  const name = `fpr_hub_test_${randomBytes(6).toString("hex")}`;
  await asAdmin(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    options: (overrides = {}) => ({ url: url.toString(), maxConnections: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, ...overrides }),
    drop: () => asAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
