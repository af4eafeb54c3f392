import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATION_LOCK_KEY, migratePostgres, openPostgresPool } from "../../src/db/pg-client.ts";
import { adminUrl, createScratchDatabase, type ScratchDatabase } from "./pg-scratch-database.ts";

const JOURNAL = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, "../../drizzle/pg/meta/_journal.json"), "utf8")) as {
  entries: { when: number }[];
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase();
  cleanups.push(() => scratch.drop());
  return scratch;
}

function pool(scratch: ScratchDatabase, overrides: Parameters<ScratchDatabase["options"]>[0] = {}): pg.Pool {
  const opened = openPostgresPool(scratch.options(overrides));
  cleanups.push(() => opened.end());
  return opened;
}

async function appliedMigrations(on: pg.Pool): Promise<number[]> {
  const { rows } = await on.query<{ created_at: number }>("SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY id");
  return rows.map((row) => row.created_at);
}

describe("PostgreSQL migrator", () => {
  it("applies every migration once on a fresh database, and nothing on a second run", async () => {
    const db = pool(await freshDatabase());
    await migratePostgres(db);
    await migratePostgres(db);
    expect(await appliedMigrations(db)).toEqual(JOURNAL.entries.map((entry) => entry.when));
    expect((await db.query("SELECT last_sequence FROM event_sequence")).rows).toEqual([{ last_sequence: 0 }]);
  });

  it("five processes' migrators started together on one fresh database all succeed, applying each migration once", async () => {
    const scratch = await freshDatabase();
    const pools = Array.from({ length: 5 }, () => pool(scratch, { maxConnections: 2 }));
    const outcomes = await Promise.allSettled(pools.map((each) => migratePostgres(each)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill("fulfilled"));
    expect(await appliedMigrations(pools[0])).toEqual(JOURNAL.entries.map((entry) => entry.when));
    // The seed ran once (a second run would have failed on the primary key anyway).
    expect((await pools[0].query("SELECT count(*) AS n FROM event_sequence")).rows).toEqual([{ n: 1 }]);
  });

  it("waits while another session holds the migration lock, then migrates", async () => {
    const scratch = await freshDatabase();
    const holder = new pg.Client({ connectionString: scratch.url });
    await holder.connect();
    cleanups.push(() => holder.end());
    await holder.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    // A statement timeout shorter than the wait: the lock's wait must not be cut by it.
    const db = pool(scratch, { statementTimeoutMs: 200 });
    let done = false;
    const migrating = migratePostgres(db).then(() => { done = true; });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(done).toBe(false);
    expect((await db.query("SELECT to_regclass('public.events') AS events")).rows).toEqual([{ events: null }]);
    await holder.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    await migrating;
    expect(await appliedMigrations(db)).toHaveLength(JOURNAL.entries.length);
  });

  it("bounds the pool and gives its connections the statement timeout", async () => {
    const db = pool(await freshDatabase(), { maxConnections: 2, statementTimeoutMs: 300, applicationName: "fpr-hub-pool-test" });
    await migratePostgres(db);
    expect((await db.query("SHOW statement_timeout")).rows).toEqual([{ statement_timeout: "300ms" }]);
    await expect(db.query("SELECT pg_sleep(2)")).rejects.toMatchObject({ code: "57014" });
    const sleeps = Array.from({ length: 5 }, () => db.query("SELECT pg_sleep(0.1)"));
    expect(db.totalCount).toBeLessThanOrEqual(2);
    await Promise.all(sleeps);
    const admin = new pg.Client({ connectionString: await adminUrl() });
    await admin.connect();
    cleanups.push(() => admin.end());
    const { rows } = await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'fpr-hub-pool-test'");
    expect(rows[0].n).toBeLessThanOrEqual(2);
  });
});
