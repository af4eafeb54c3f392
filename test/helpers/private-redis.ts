import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { findFreePort, pingRedis } from "../../src/redis/find-redis.ts";
import { tempDir } from "./temp-hub.ts";

/**
 * A redis-server owned by one test (its own port and directory, append-only file on), so the test
 * may stop and restart it without disturbing the shared test Redis. stop() and start() keep the
 * port and the directory, as an operator restarting Redis would.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private readonly killOnExit = (): void => void this.child?.kill("SIGKILL");

  private constructor(
    readonly port: number,
    readonly dir: string,
    /** More redis-server flags, after the defaults (so `--appendonly no` turns persistence off). */
    private args: string[],
  ) {}

  static async start(options: { args?: string[] } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await findFreePort(), tempDir("fpr-hub-private-redis-"), options.args ?? []);
    process.on("exit", redis.killOnExit);
    try {
      await redis.start();
    } catch (error) {
      await redis.destroy();
      throw error;
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts redis-server on the same port and directory (with other flags, when given); resolves once it answers PING. */
  async start(args: string[] = this.args): Promise<void> {
    if (this.child) return;
    this.args = args;
    const defaults = ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir, "--save", "", "--appendonly", "yes", "--daemonize", "no", "--logfile", ""];
    const child = spawn("redis-server", [...defaults, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const keep = (chunk: Buffer): void => void (output = (output + chunk.toString("utf8")).slice(-2000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", () => undefined);
    this.child = child;
    child.once("exit", () => {
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`redis-server exited at start (${child.exitCode ?? child.signalCode}): ${output}`);
      }
      if ((await pingRedis(this.url, 500)) === null) return;
      if (Date.now() > deadline) {
        await this.stop("SIGKILL");
        throw new Error(`redis-server gave no PONG within 10 s: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops the server and waits until the process has exited (SIGKILL after 10 s). */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.child = null;
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop("SIGKILL");
    process.off("exit", this.killOnExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
