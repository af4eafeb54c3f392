import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { expect, inject } from "vitest";
import { PostgresUnavailableError } from "./postgres-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * The PostgreSQL every test file shares (test/global-postgres.ts): the admin URL of
     * `TEST_POSTGRES_URL` or of the run's private cluster (then with the file its start is
     * reported in), or, when neither is to be had, why not.
     */
    testPostgres: { url: string; statusFile: string | null } | { url: null; problem: string };
  }
}

/** A database of one test file's own: `url` connects to it; `drop()` removes it (test/setup.ts drops what is left at the file's end). */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** How long a test waits for the run's private cluster to finish starting (it began at setup, so it is usually up). */
const READY_TIMEOUT_MS = 30_000;

let ready: Promise<string> | undefined;

/** The admin URL of the run's PostgreSQL, once it answers; throws, saying why and how to get one, when the run has none. */
export function postgresAdminUrl(): Promise<string> {
  ready ??= waitForRunPostgres();
  return ready;
}

async function waitForRunPostgres(): Promise<string> {
  const found = inject("testPostgres");
  if (found.url === null) throw new PostgresUnavailableError(`The tests have no PostgreSQL: ${found.problem}`);
  if (found.statusFile === null) return found.url;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const status = fs.existsSync(found.statusFile) ? fs.readFileSync(found.statusFile, "utf8") : "";
    if (status === "ready") return found.url;
    if (status) throw new PostgresUnavailableError(`The tests' PostgreSQL did not start: ${status}`);
    if (Date.now() > deadline) throw new PostgresUnavailableError(`The tests' PostgreSQL was not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Databases created in this test file and not dropped yet. */
const madeDatabases = new Map<string, TestDatabase>();

/**
 * A new, empty database on the run's PostgreSQL, named with the run's mark (so the run's teardown
 * finds any left behind) and commented with the test file that made it (so its report names it).
 */
export async function createTestDatabase(options: { file?: string } = {}): Promise<TestDatabase> {
  const adminUrl = await postgresAdminUrl();
  const name = `${inject("testRun")}_${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
  const file = options.file ?? currentTestFile();
  await withClient(adminUrl, async (client) => {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    await client.query(`COMMENT ON DATABASE ${client.escapeIdentifier(name)} IS ${client.escapeLiteral(file)}`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database: TestDatabase = {
    name,
    url: url.toString(),
    drop: async () => {
      madeDatabases.delete(name);
      await dropDatabase(adminUrl, name);
    },
  };
  madeDatabases.set(name, database);
  return database;
}

/** Drops every database this file made and did not drop (after the file's own hooks closed its connections). */
export async function dropMadeDatabases(): Promise<void> {
  for (const database of [...madeDatabases.values()]) await database.drop();
}

/** Drops a database, ending whatever sessions still use it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}

/** The databases marked with run `run` that still exist, each with the test file that made it. */
export async function testDatabasesOf(adminUrl: string, run: string): Promise<{ name: string; file: string }[]> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ name: string; file: string | null }>(
      "SELECT datname AS name, shobj_description(oid, 'pg_database') AS file FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
      [`${run}_`],
    );
    return rows.map((row) => ({ name: row.name, file: row.file ?? "(unknown file)" }));
  });
}

/** Runs `work` on one session to `url`, closed afterwards. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function currentTestFile(): string {
  const testPath = expect.getState().testPath;
  return testPath ? path.relative(process.cwd(), testPath) : "(unknown file)";
}
