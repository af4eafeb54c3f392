import type { PostgresOptions } from "../../src/db/pg-client.ts";
import { createTestDatabase, postgresAdminUrl } from "../helpers/postgres.ts";

/** A test database of the run's PostgreSQL (test/helpers/postgres.ts), with the pool settings the hub would pass. */
export interface ScratchDatabase {
  url: string;
  /** Pool settings for this database, as the hub would pass them. */
  options(overrides?: Partial<PostgresOptions>): PostgresOptions;
  drop(): Promise<void>;
}

/** The admin URL of the run's PostgreSQL (it may create and drop databases). */
export const adminUrl = postgresAdminUrl;

/** An empty database of this file's own; `drop` removes it, ending its connections. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const database = await createTestDatabase();
  return {
    url: database.url,
    options: (overrides = {}) => ({ url: database.url, maxConnections: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, ...overrides }),
    drop: () => database.drop(),
  };
}
