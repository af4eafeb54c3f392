/**
 * PostgreSQL's storage troubles, proved on genuine errors of a real server: the statement
 * timeout, a serialization failure, a deadlock, too many connections (a private cluster of three
 * connections), a pool with every connection in use, a refused connection. Each reaches callers
 * as SERVICE_UNAVAILABLE through the executor, while a bare ECONNREFUSED (Redis, a webhook
 * receiver) stays what it was. SQLite's are tested in storage-errors.test.ts, unchanged.
 */
import net from "node:net";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import type { SqlExecutor } from "../../src/db/executor.ts";
import { openPostgresPool, type PostgresOptions } from "../../src/db/pg-client.ts";
import { pgExecutor } from "../../src/db/pg-executor.ts";
import { defineStatement, type NoParams } from "../../src/db/statement.ts";
import { asStorageUnavailable, postgresClientTrouble, storageTroubleOf, StorageTroubleError } from "../../src/db/storage-errors.ts";
import { HubError } from "../../src/errors.ts";
import { findFreePort } from "../../src/redis/find-redis.ts";
import { PrivatePostgres } from "../helpers/private-postgres.ts";
import { createTestDatabase, withClient } from "../helpers/postgres.ts";

const SLEEP = defineStatement<{ seconds: number }, unknown>("SELECT pg_sleep(@seconds)");
const ONE = defineStatement<NoParams, { one: number }>("SELECT 1 AS one");

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function executorOn(url: string, overrides: Partial<PostgresOptions> = {}): Promise<SqlExecutor> {
  const executor = pgExecutor(openPostgresPool({ url, maxConnections: 4, statementTimeoutMs: 10_000, connectTimeoutMs: 2_000, onIdleError: () => {}, ...overrides }));
  cleanups.push(() => executor.close());
  return executor;
}

async function client(url: string): Promise<pg.Client> {
  const opened = new pg.Client({ connectionString: url });
  opened.on("error", () => {});
  await opened.connect();
  cleanups.push(() => opened.end());
  return opened;
}

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => new Error("expected a failure"), (error: unknown) => error);

/** As every edge (GraphQL, REST, CLI) shows it. */
function expectShown(error: unknown, trouble: string, code?: string): void {
  if (code) expect((error as { code?: string }).code).toBe(code);
  expect(storageTroubleOf(error)).toBe(trouble);
  const shown = asStorageUnavailable(error);
  expect(shown).toBeInstanceOf(HubError);
  expect(shown).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  expect((shown as Error).message).not.toMatch(/SELECT|127\.0\.0\.1|pg_/);
}

describe("PostgreSQL storage troubles", () => {
  it("the statement timeout (57014) is busy", async () => {
    const database = await createTestDatabase();
    const db = await executorOn(database.url, { statementTimeoutMs: 100 });
    expectShown(await failure(db.get(SLEEP, { seconds: 2 })), "busy", "57014");
    expect(await db.get(ONE)).toEqual({ one: 1 }); // the connection was kept and works
  });

  it("a serialization failure (40001) and a deadlock (40P01) are busy", async () => {
    const database = await createTestDatabase();
    const [a, b] = [await client(database.url), await client(database.url)];
    await a.query("CREATE TABLE t (id integer PRIMARY KEY, n integer); INSERT INTO t VALUES (1, 0), (2, 0)");
    await a.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
    await a.query("SELECT n FROM t WHERE id = 1");
    await b.query("UPDATE t SET n = 1 WHERE id = 1");
    expectShown(await failure(a.query("UPDATE t SET n = 2 WHERE id = 1")), "busy", "40001");
    await a.query("ROLLBACK");
    await a.query("BEGIN");
    await b.query("BEGIN");
    await a.query("UPDATE t SET n = 3 WHERE id = 1");
    await b.query("UPDATE t SET n = 3 WHERE id = 2");
    const outcomes = await Promise.allSettled([a.query("UPDATE t SET n = 4 WHERE id = 2"), b.query("UPDATE t SET n = 4 WHERE id = 1")]);
    const deadlock = outcomes.find((outcome) => outcome.status === "rejected") as PromiseRejectedResult;
    expectShown(deadlock.reason, "busy", "40P01");
    await Promise.all([a.query("ROLLBACK"), b.query("ROLLBACK")]);
  });

  it("too many connections (53300) is busy; a pool with every connection in use is busy; a refused connection is unreachable", async () => {
    const server = await PrivatePostgres.start({ settings: { max_connections: "3", superuser_reserved_connections: "0" } });
    cleanups.push(() => server.destroy());
    const db = await executorOn(server.url, { maxConnections: 5 });
    const holding = Array.from({ length: 3 }, () => db.get(SLEEP, { seconds: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expectShown(await failure(db.get(ONE)), "busy", "53300");
    await Promise.all(holding);
    await db.close(); // its idle connections would take the server's three
    const small = await executorOn(server.url, { maxConnections: 1, connectTimeoutMs: 200 });
    const held = small.transaction(() => small.get(SLEEP, { seconds: 1 }));
    const exhausted = await failure(small.get(ONE));
    expect(exhausted).toBeInstanceOf(StorageTroubleError);
    expectShown(exhausted, "busy");
    await held;
    const refused = await executorOn(`postgres://nobody@127.0.0.1:${await findFreePort()}/none`);
    expectShown(await failure(refused.get(ONE)), "unreachable");
  });

  it("recognises the server's shutdown and connection codes; Node's socket codes only on the executor's connections", async () => {
    for (const code of ["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006"]) {
      expect(storageTroubleOf(Object.assign(new Error("x"), { code }))).toBe("unreachable");
    }
    // A genuine terminated session: the administrator's command on a live connection.
    const database = await createTestDatabase();
    const victim = await client(database.url);
    const pid = (await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    const terminated = failure(victim.query("SELECT pg_sleep(5)"));
    await withClient(database.url, (admin) => admin.query("SELECT pg_terminate_backend($1)", [pid]));
    expectShown(await terminated, "unreachable", "57P01");
    // A bare ECONNREFUSED (what ioredis or a webhook receiver raises) is not storage trouble...
    const port = await findFreePort();
    const bare = await new Promise<Error>((resolve) => net.connect(port, "127.0.0.1").once("error", resolve));
    expect((bare as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(storageTroubleOf(bare)).toBeNull();
    // ...but is when it came from the database's own connection.
    expect(storageTroubleOf(postgresClientTrouble(bare))).toBe("unreachable");
    expect(storageTroubleOf(postgresClientTrouble(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" })))).toBe("unreachable");
    const unrelated = new Error("syntax error");
    expect(postgresClientTrouble(unrelated)).toBe(unrelated);
  });
});
