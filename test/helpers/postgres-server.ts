import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/**
 * What a private PostgreSQL for the tests needs from the machine: the server's binaries, and, when
 * the tests run as root (CI does), an unprivileged account to run them as, since initdb and
 * postgres refuse to run as root.
 */
export interface PostgresBinaries {
  /** The folder holding initdb and postgres. */
  binDir: string;
  initdb: string;
  postgres: string;
}

export interface ServerAccount {
  name: string;
  uid: number;
  gid: number;
}

export class PostgresUnavailableError extends Error {
  override readonly name = "PostgresUnavailableError";
}

export const HOW_TO_GET_POSTGRES =
  "Install PostgreSQL's server (`apt-get install postgresql`; .ci/run does) so the tests can start their own cluster, " +
  "or set TEST_POSTGRES_URL to an admin URL of a server they may create databases on.";

/** Debian keeps each major version's server here, off PATH. */
const DEBIAN_ROOT = "/usr/lib/postgresql";
/** The account Debian's `postgresql` package creates. */
const DEFAULT_ACCOUNT = "postgres";

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function binariesIn(binDir: string): PostgresBinaries | null {
  const initdb = path.join(binDir, "initdb");
  const postgres = path.join(binDir, "postgres");
  return isExecutable(initdb) && isExecutable(postgres) ? { binDir, initdb, postgres } : null;
}

/** The highest version under /usr/lib/postgresql/<version>/bin, else the first PATH folder with both binaries; null when none. */
export function findPostgresBinaries(root = DEBIAN_ROOT, searchPath = process.env.PATH ?? ""): PostgresBinaries | null {
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((name) => /^\d+(\.\d+)?$/.test(name)) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const found = binariesIn(path.join(root, version, "bin"));
    if (found) return found;
  }
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const found = binariesIn(dir);
    if (found) return found;
  }
  return null;
}

/**
 * Null when the server may run as the current user; as root, the unprivileged account it runs
 * as instead (`postgres`), or PostgresUnavailableError when there is none.
 */
export function serverAccount(name = DEFAULT_ACCOUNT): ServerAccount | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string): number => Number(execFileSync("id", [flag, name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    const account = { name, uid: id("-u"), gid: id("-g") };
    if (account.uid === 0) throw new Error("it is root");
    return account;
  } catch {
    throw new PostgresUnavailableError(
      `PostgreSQL refuses to run as root, and there is no unprivileged \`${name}\` account to run it as (Debian's postgresql package creates one). ${HOW_TO_GET_POSTGRES}`,
    );
  }
}

/**
 * Lets the server account pass through `dir` (a folder of the root-run tests it keeps its own
 * private folders in): group `name`'s, mode 0710, so nobody else may even enter it. No-op without an account.
 */
export function letAccountThrough(dir: string, account: ServerAccount | null): void {
  if (!account) return;
  fs.chownSync(dir, fs.statSync(dir).uid, account.gid);
  fs.chmodSync(dir, 0o710);
}

/** Null when a session opens and `SELECT 1` answers within the timeout, else the reason (the server's own message or code). */
export async function pingPostgres(url: string, timeoutMs: number): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return message || code || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether the role of `url` may create databases (a superuser or CREATEDB); false when it cannot be asked. */
export async function mayCreateDatabases(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query("SELECT rolsuper OR rolcreatedb AS may FROM pg_roles WHERE rolname = current_user");
    return rows[0]?.may === true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
