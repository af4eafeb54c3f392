import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTestDatabase, postgresAdminUrl, testDatabasesOf, withClient } from "../helpers/postgres.ts";
import { findPostgresBinaries, serverAccount } from "../helpers/postgres-server.ts";
import { PrivatePostgres } from "../helpers/private-postgres.ts";
import { tempDir } from "../helpers/temp-dir.ts";

/**
 * The PostgreSQL the tests stand on, real: the run's server (TEST_POSTGRES_URL or its private
 * cluster) hands each test file databases of its own, and a PrivatePostgres survives the restarts
 * later tests put it through.
 */
async function currentDatabase(url: string): Promise<string> {
  return withClient(url, async (client) => (await client.query<{ name: string }>("SELECT current_database() AS name")).rows[0].name);
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(await postgresAdminUrl(), async (client) => (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1);
}

describe("test databases", () => {
  it("are created on the run's PostgreSQL, reachable with pg, and named with the run's mark", async () => {
    const database = await createTestDatabase();
    expect(database.name.startsWith(`${inject("testRun")}_`)).toBe(true);
    expect(await currentDatabase(database.url)).toBe(database.name);
    const left = await testDatabasesOf(await postgresAdminUrl(), inject("testRun"));
    expect(left).toContainEqual({ name: database.name, file: "test/db/postgres-infra.test.ts" });
    await database.drop();
  });

  it("are different for two files, and what one holds the other does not see", async () => {
    const first = await createTestDatabase({ file: "test/a.test.ts" });
    const second = await createTestDatabase({ file: "test/b.test.ts" });
    expect(first.name).not.toBe(second.name);
    await withClient(first.url, (client) => client.query("CREATE TABLE marks (file text); INSERT INTO marks VALUES ('a')"));
    const seen = await withClient(second.url, async (client) => (await client.query("SELECT to_regclass('marks') AS found")).rows[0].found);
    expect(seen).toBeNull();
    const listed = await testDatabasesOf(await postgresAdminUrl(), inject("testRun"));
    expect(listed).toContainEqual({ name: first.name, file: "test/a.test.ts" });
    expect(listed).toContainEqual({ name: second.name, file: "test/b.test.ts" });
    await first.drop();
    await second.drop();
  });

  it("are removed by drop(), sessions still on them ended", async () => {
    const database = await createTestDatabase();
    const session = new pg.Client({ connectionString: database.url });
    const ended = new Promise<Error>((resolve) => session.on("error", resolve));
    await session.connect();
    await database.drop();
    expect(await databaseExists(database.name)).toBe(false);
    expect(await ended).toMatchObject({ code: "57P01" }); // terminating connection due to administrator command
    await session.end().catch(() => undefined);
    await expect(currentDatabase(database.url)).rejects.toMatchObject({ code: "3D000" }); // database does not exist
    await database.drop(); // again: nothing left to do
  });
});

describe("PrivatePostgres", () => {
  let server: PrivatePostgres;
  beforeAll(async () => {
    server = await PrivatePostgres.start();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it("keeps its cluster in an owner-only folder, owned by the account it runs as", () => {
    const stat = fs.statSync(server.dir);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).toBe(serverAccount()?.uid ?? process.getuid!());
    expect(new URL(server.url).hostname).toBe("127.0.0.1");
  });

  it("asks for its random password over TCP: another local account cannot connect as the superuser", async () => {
    const url = new URL(server.url);
    expect(url.password.length).toBeGreaterThanOrEqual(20);
    for (const guess of ["postgres", "trust-me"]) {
      const attempt = new URL(server.url);
      attempt.password = guess;
      const client = new pg.Client({ connectionString: attempt.toString() });
      await expect(client.connect()).rejects.toMatchObject({ code: "28P01" }); // password authentication failed
      await client.end().catch(() => undefined);
    }
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    expect((await client.query("SELECT current_user AS who")).rows).toEqual([{ who: "postgres" }]);
    await client.end();
  });

  it("keeps its rows and its port across stop() and start(); a connection while stopped is refused", async () => {
    await withClient(server.url, (client) => client.query("CREATE TABLE kept (n int); INSERT INTO kept SELECT generate_series(1, 100)"));
    const port = server.port;
    const open = new pg.Client({ connectionString: server.url });
    const ended = new Promise<Error>((resolve) => open.on("error", resolve));
    await open.connect();

    await server.stop();
    expect(server.running).toBe(false);
    expect(await ended).toMatchObject({ code: "57P01" }); // an open session is told the server shuts down
    await open.end().catch(() => undefined);
    const refused = await withClient(server.url, async () => null).catch((error: NodeJS.ErrnoException) => error);
    expect(refused).toMatchObject({ code: "ECONNREFUSED" });
    expect(String(refused)).toContain(`127.0.0.1:${port}`);

    await server.start();
    expect(server.port).toBe(port);
    const count = await withClient(server.url, async (client) => (await client.query<{ n: string }>("SELECT count(*) AS n FROM kept")).rows[0].n);
    expect(count).toBe("100");
  });
});

describe("findPostgresBinaries", () => {
  const install = (dir: string, names = ["initdb", "postgres"]): string => {
    fs.mkdirSync(dir, { recursive: true });
    for (const name of names) fs.writeFileSync(path.join(dir, name), "#!/bin/sh\n", { mode: 0o755 });
    return dir;
  };

  it("takes the highest Debian version that has both initdb and postgres", () => {
    const root = tempDir();
    install(path.join(root, "9.6", "bin"));
    const v15 = install(path.join(root, "15", "bin"));
    install(path.join(root, "17", "bin"), ["initdb"]); // half-installed: no server
    install(path.join(root, "common", "bin"));
    expect(findPostgresBinaries(root, "")).toEqual({ binDir: v15, initdb: path.join(v15, "initdb"), postgres: path.join(v15, "postgres") });
  });

  it("falls back to PATH, and finds nothing when neither has the server", () => {
    const root = tempDir();
    const onPath = install(path.join(tempDir(), "bin"));
    const clientOnly = install(path.join(tempDir(), "bin"), ["psql", "initdb"]);
    expect(findPostgresBinaries(root, [clientOnly, onPath].join(path.delimiter))?.binDir).toBe(onPath);
    expect(findPostgresBinaries(root, clientOnly)).toBeNull();
  });
});
