import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually } from "./receiver.ts";
import { TEST_SECRET } from "./temp-hub.ts";

/**
 * `fpr-hub <command>` as a real child process (the command line the README gives an operator),
 * for the tests of starting and stopping: its output kept, its URLs and its Redis child's pid
 * read from what it prints, its exit awaited. Every process still running when the test process
 * ends is killed, so a failed test leaves none behind.
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "bin/fpr-hub.js");

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<HubProcess>();
process.on("exit", () => {
  for (const hub of running) hub.child.kill("SIGKILL");
});

/** An environment for a child hub: loopback, a free port, no demo seed, never the machine's Redis (its own redis-server child unless REDIS_URL is given). */
export function hubEnv(dataDir: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    HUB_SECRET: TEST_SECRET,
    DEMO_SEED: "off",
    // Not "test": Apollo installs its own signal handlers in every other mode, and the stop must work despite them.
    NODE_ENV: "development",
    REDIS_URL: "",
    REDIS_EMBEDDED: overrides.REDIS_URL ? "" : "1",
    WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8",
    LOG_LEVEL: "info",
    ...overrides,
  };
}

export class HubProcess {
  output = "";
  readonly exited: Promise<Exit>;

  private constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => void (this.output += chunk.toString("utf8"));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", () => undefined);
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => running.delete(this));
  }

  /** Spawns `node bin/fpr-hub.js ...args` with `env` over this process's environment. */
  static spawn(args: string[], env: Record<string, string>): HubProcess {
    const hub = new HubProcess(spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
    running.add(hub);
    return hub;
  }

  /** Spawns and waits until the role says it runs (banner, or the worker's line). */
  static async start(args: string[], env: Record<string, string>): Promise<HubProcess> {
    const hub = HubProcess.spawn(args, env);
    try {
      await eventually(
        () => {
          if (hub.hasExited) throw new Error(`fpr-hub ${args.join(" ")} exited at start (${hub.child.exitCode ?? hub.child.signalCode}):\n${hub.output}`);
          return /Stop with Ctrl-C|fpr-hub worker running/.test(hub.output);
        },
        150_000,
        `fpr-hub ${args.join(" ")} starting`,
      );
    } catch (error) {
      await hub.kill("SIGKILL");
      throw error;
    }
    return hub;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The api's base URL from the banner. */
  get url(): string {
    const match = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(this.output);
    if (!match) throw new Error(`no GraphQL URL in the output:\n${this.output}`);
    return match[1];
  }

  /** The operations listener's base URL from the banner (OPS_PORT set). */
  get opsUrl(): string {
    const match = /Ops\s+(http:\/\/\S+)\/metrics/.exec(this.output) ?? /metrics at (http:\/\/\S+)\/metrics/.exec(this.output);
    if (!match) throw new Error(`no operations URL in the output:\n${this.output}`);
    return match[1];
  }

  /** The pid of the redis-server this hub started, from its log line. */
  get redisPid(): number {
    const match = /started redis-server \(pid (\d+)\)/.exec(this.output);
    if (!match) throw new Error(`no redis-server started in the output:\n${this.output}`);
    return Number(match[1]);
  }

  /** The JSON log lines printed so far. */
  logLines(): Record<string, unknown>[] {
    return this.output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Sends the signal (unless it has exited) and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<Exit> {
    if (!this.hasExited) this.child.kill(signal);
    return this.exited;
  }
}

/** Whether a process with this pid runs (a zombie awaiting its parent counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Pids of the redis-server processes running on the files in `dir` (from /proc: redis-server works in its --dir). */
export function redisServersOn(dir: string): number[] {
  const wanted = fs.realpathSync(dir);
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "redis-server") continue;
      if (fs.readlinkSync(`/proc/${entry}/cwd`) === wanted && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return pids;
}
