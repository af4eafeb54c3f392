import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ProvidedContext } from "vitest";
import { findFreePort, redactUrl } from "../src/redis/find-redis.ts";
import { dropDatabase, testDatabasesOf } from "./helpers/postgres.ts";
import { findPostgresBinaries, HOW_TO_GET_POSTGRES, letAccountThrough, mayCreateDatabases, pingPostgres, PostgresUnavailableError, serverAccount } from "./helpers/postgres-server.ts";
import { PrivatePostgres, randomPassword, superuserUrl } from "./helpers/private-postgres.ts";

/**
 * One PostgreSQL for the whole run (test/global-setup.ts): `TEST_POSTGRES_URL` when set (an admin
 * URL: the tests create and drop databases on it); else the server on 127.0.0.1:5432 when one
 * answers there to the `postgres` role without a password and may create databases (the tests only
 * create and drop databases of their own, named with the run's mark, and the teardown drops what
 * they left; nothing else on that server is touched); otherwise a private cluster on a free port.
 *
 * The private cluster is started in the background: initdb and start take 0.7 to 1.4 s here
 * (initdb is most of it, more on a busy machine), which a run whose tests need no PostgreSQL
 * should not wait for (measured: a one-file run takes 2.8 s with or without it, the start hidden
 * behind the workers' own), while one cluster for every worker beats one per worker (each paying
 * that again). Its URL is known at once (the port is picked first); the setup writes `ready`, or why it
 * failed, to a status file that the first test asking for a database waits on
 * (test/helpers/postgres.ts). Without the server installed the run goes on, and that test fails
 * saying how to get one.
 */
export interface RunPostgres {
  provided: ProvidedContext["testPostgres"];
  /** Drops the run's databases left behind and stops a private cluster; one message per leftover, empty when none. */
  close(): Promise<string[]>;
}

export async function openRunPostgres(run: string): Promise<RunPostgres> {
  const configured = process.env.TEST_POSTGRES_URL?.trim();
  if (configured) return useConfigured(configured, run);
  const local = await localServerUrl();
  if (local) return { provided: { url: local, statusFile: null }, close: () => closeRun(local, run, null) };
  if (!findPostgresBinaries()) {
    const problem = `No PostgreSQL server found (initdb and postgres under /usr/lib/postgresql/*/bin or on PATH). ${HOW_TO_GET_POSTGRES}`;
    return { provided: { url: null, problem }, close: async () => [] };
  }
  // Outside the run's temp folder, whose leftovers the teardown reports.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "fpr-hub-test-postgres-"));
  const statusFile = path.join(folder, "status");
  const port = await findFreePort();
  const password = randomPassword();
  const starting = startInBackground(folder, port, password, statusFile);
  return {
    provided: { url: superuserUrl(port, password), statusFile },
    close: async () => {
      const server = await starting;
      const found = server ? await closeRun(server.url, run, server) : [];
      fs.rmSync(folder, { recursive: true, force: true });
      return found;
    },
  };
}

/** The server on 127.0.0.1:5432, when one answers there to `postgres` without a password and may create databases. */
async function localServerUrl(): Promise<string | null> {
  const url = "postgres://postgres@127.0.0.1:5432/postgres";
  if ((await pingPostgres(url, 1_000)) !== null) return null;
  return (await mayCreateDatabases(url)) ? url : null;
}

async function useConfigured(url: string, run: string): Promise<RunPostgres> {
  const problem = await pingPostgres(url, 5_000);
  if (problem !== null) {
    throw new PostgresUnavailableError(`TEST_POSTGRES_URL (${redactUrl(url)}) did not answer: ${problem}. Check the server and the URL, or unset it to let the tests start their own cluster.`);
  }
  return { provided: { url, statusFile: null }, close: () => closeRun(url, run, null) };
}

/** The cluster once it answers, null when it could not start; either way the status file says so (written whole, then renamed). */
async function startInBackground(folder: string, port: number, password: string, statusFile: string): Promise<PrivatePostgres | null> {
  const report = (status: string): void => {
    fs.writeFileSync(`${statusFile}.tmp`, status);
    fs.renameSync(`${statusFile}.tmp`, statusFile);
  };
  try {
    // As root, the cluster's own folder (owned by the account it runs as) goes inside this one.
    letAccountThrough(folder, serverAccount());
    const server = await PrivatePostgres.start({ parentDir: folder, port, password });
    report("ready");
    return server;
  } catch (error) {
    report((error as Error).message || String(error));
    return null;
  }
}

/**
 * As root, lets the server account through the run's temp folder, so a test's own PrivatePostgres
 * can keep its (private) folder there like any other temp file.
 */
export function shareRunFolder(tempRoot: string): void {
  try {
    letAccountThrough(tempRoot, serverAccount());
  } catch (error) {
    if (!(error instanceof PostgresUnavailableError)) throw error;
    // No account to run PostgreSQL as: PrivatePostgres.start() says so when a test asks for one.
  }
}

async function closeRun(url: string, run: string, server: PrivatePostgres | null): Promise<string[]> {
  const found: string[] = [];
  try {
    const left = await testDatabasesOf(url, run);
    for (const database of left) await dropDatabase(url, database.name);
    if (left.length > 0) {
      const named = left.slice(0, 10).map((database) => `${database.name} (${database.file})`);
      found.push(`${left.length} test databases left on PostgreSQL (now dropped): ${named.join(", ")}`);
    }
  } catch (error) {
    found.push(`the run's test databases on ${redactUrl(url)} could not be checked: ${(error as Error).message}`);
  }
  await server?.destroy();
  return found;
}
