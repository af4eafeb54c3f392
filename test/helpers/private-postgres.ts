import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findFreePort } from "../../src/redis/find-redis.ts";
import {
  findPostgresBinaries,
  HOW_TO_GET_POSTGRES,
  pingPostgres,
  PostgresUnavailableError,
  serverAccount,
  type PostgresBinaries,
  type ServerAccount,
} from "./postgres-server.ts";
import { tempDir } from "./temp-dir.ts";

export interface PrivatePostgresOptions {
  /** Where the cluster's folder goes; default the OS temp folder (inside a test file: the run's, removed with the file). */
  parentDir?: string;
  /** More server settings (`-c name=value`), after the defaults. */
  settings?: Record<string, string>;
  /** Default a free one: given, the caller knows the URL (`superuserUrl(port, password)`) before the server answers. */
  port?: number;
  /** The superuser's password over TCP; default a random one. */
  password?: string;
}

/** A password no other account on the machine can guess, for a cluster's superuser. */
export function randomPassword(): string {
  return randomBytes(18).toString("base64url");
}

/** The bootstrap superuser initdb creates, whatever account the server runs as. */
const SUPERUSER = "postgres";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** Linux's sun_path is 108 bytes with its NUL; macOS's 104. */
const MAX_SOCKET_PATH = 103;

// Tests only: no fsync (nothing here must survive the machine crashing). Commits stay synchronous,
// so a killed server still has every commit it acknowledged, as a real one does.
const DEFAULT_SETTINGS: Record<string, string> = { fsync: "off", listen_addresses: "127.0.0.1", logging_collector: "off" };

// Over TCP the superuser needs the cluster's random password: other accounts of a shared machine can
// reach 127.0.0.1 too. The unix socket sits in the private folder (only the server's account and
// root can enter it), so trust there is the folder's own guard.
const HBA = [
  "# A test cluster: trust only on its private socket; a password on loopback; nothing else.",
  "local all all trust",
  "host  all all 127.0.0.1/32 scram-sha-256",
  "",
].join("\n");

/** The superuser's URL of a private cluster on `port`, over TCP on loopback. */
export function superuserUrl(port: number, password: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * A PostgreSQL cluster of its own: `initdb` into a private folder (owner-only), then `postgres` as
 * a child process on a free port on 127.0.0.1, with its unix socket in that folder (trust there:
 * only the server's account and root can enter it) and a random superuser password over TCP.
 * stop() and start() keep the data and the port,
 * as an operator restarting PostgreSQL would. As root (CI), initdb and postgres run as the
 * `postgres` account, which then owns the folder.
 */
export class PrivatePostgres {
  private child: ChildProcess | null = null;
  private output = "";
  private readonly killOnExit = (): void => void this.child?.kill("SIGQUIT");

  private constructor(
    readonly port: number,
    /** The private folder: the data directory (`data/`) and the socket. */
    readonly dir: string,
    private readonly binaries: PostgresBinaries,
    private readonly account: ServerAccount | null,
    private readonly settings: Record<string, string>,
    private readonly password: string,
  ) {}

  /** initdb, then start; PostgresUnavailableError when the server is not installed or cannot run here. */
  static async start(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const binaries = findPostgresBinaries();
    if (!binaries) throw new PostgresUnavailableError(`No PostgreSQL server found (initdb and postgres under /usr/lib/postgresql/*/bin or on PATH). ${HOW_TO_GET_POSTGRES}`);
    const account = serverAccount();
    const dir = makePrivateDir(options.parentDir, account);
    const server = new PrivatePostgres(options.port ?? (await findFreePort()), dir, binaries, account, { ...DEFAULT_SETTINGS, ...options.settings }, options.password ?? randomPassword());
    process.on("exit", server.killOnExit);
    try {
      await server.initialize();
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** The superuser's URL, over TCP on loopback. */
  get url(): string {
    return superuserUrl(this.port, this.password);
  }

  get dataDir(): string {
    return path.join(this.dir, "data");
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the server on the same port and data; resolves once a session opens. */
  async start(): Promise<void> {
    if (this.child) return;
    const settings = { ...this.settings, unix_socket_directories: this.socketDir() };
    const args = ["-D", this.dataDir, "-p", String(this.port), ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
    this.output = "";
    const child = this.spawnAsServer(this.binaries.postgres, args);
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = null;
    });
    await this.waitUntilAnswering(child);
  }

  /** Stops the server (`fast`: SIGINT, sessions ended and a checkpoint; `immediate`: SIGQUIT) and waits until it exited. */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(mode === "fast" ? "SIGINT" : "SIGQUIT");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    this.child = null;
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop("immediate");
    process.off("exit", this.killOnExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server's output since it last started (its log goes to stderr), for error messages. */
  get log(): string {
    return this.output.trim() || "(no output)";
  }

  private async initialize(): Promise<void> {
    // The password reaches initdb in a file of the private folder, read once and removed.
    const pwfile = path.join(this.dir, "pwfile");
    fs.writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    if (this.account) fs.chownSync(pwfile, this.account.uid, this.account.gid);
    const args = ["-D", this.dataDir, "-U", SUPERUSER, "-A", "scram-sha-256", `--pwfile=${pwfile}`, "-E", "UTF8", "--locale=C", "--no-sync"];
    const child = this.spawnAsServer(this.binaries.initdb, args);
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    fs.rmSync(pwfile, { force: true });
    if (code !== 0) throw new PostgresUnavailableError(`initdb failed (${code ?? "killed"}): ${this.log}`);
    // Written by root as need be, then handed to the server's account: it reads it at start.
    const hba = path.join(this.dataDir, "pg_hba.conf");
    fs.writeFileSync(hba, HBA, { mode: 0o600 });
    if (this.account) fs.chownSync(hba, this.account.uid, this.account.gid);
  }

  /** The private folder, unless the socket's path would be too long there: then no socket (TCP is what the tests use). */
  private socketDir(): string {
    return path.join(this.dir, `.s.PGSQL.${this.port}`).length <= MAX_SOCKET_PATH ? this.dir : "";
  }

  /** Runs a server binary in the private folder, as the server account when there is one; its output is kept. */
  private spawnAsServer(binary: string, args: string[]): ChildProcess {
    const ids = this.account ? { uid: this.account.uid, gid: this.account.gid } : {};
    // cwd: the folder, since the server account may not enter the one the tests run in.
    const child = spawn(binary, args, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"], ...ids });
    const keep = (chunk: Buffer): void => void (this.output = (this.output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", (error) => keep(Buffer.from(`${binary}: ${error.message}\n`)));
    return child;
  }

  private async waitUntilAnswering(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new PostgresUnavailableError(`postgres exited at start (${child.exitCode ?? child.signalCode}): ${this.log}`);
      }
      const problem = await pingPostgres(this.url, 1_000);
      if (problem === null) return;
      if (Date.now() > deadline) {
        await this.stop("immediate");
        throw new PostgresUnavailableError(`postgres did not answer within ${START_TIMEOUT_MS} ms (${problem}): ${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** An owner-only folder, owned by the server account when there is one (root may still remove it). */
function makePrivateDir(parentDir: string | undefined, account: ServerAccount | null): string {
  const prefix = "fpr-hub-private-postgres-";
  const dir = parentDir ? fs.mkdtempSync(path.join(parentDir, prefix)) : tempDir(prefix);
  fs.chmodSync(dir, 0o700);
  if (account) fs.chownSync(dir, account.uid, account.gid);
  return dir;
}

