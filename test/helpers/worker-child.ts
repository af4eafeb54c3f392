import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually } from "./receiver.ts";
import { TEST_SECRET, type TestHub } from "./temp-hub.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every child started in this test process, killed (by process id) if the process exits first. */
const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/**
 * `fpr-hub worker` as a real child process, sharing a test hub's data directory, Redis, queue
 * prefix and CloudEvents source, so a test can SIGKILL (or SIGSTOP) the worker role as an
 * operator's machine would. `env` overrides or adds variables (retry schedule, JOB_LOCK_MS...).
 */
export class WorkerChild {
  private output = "";

  private constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer): void => void (this.output = (this.output + chunk.toString("utf8")).slice(-8000));
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.on("error", () => undefined);
    started.add(child);
    child.once("exit", () => started.delete(child));
  }

  static async start(hub: TestHub, env: Record<string, string> = {}): Promise<WorkerChild> {
    const config = hub.config;
    const child = spawn(process.execPath, ["bin/fpr-hub.js", "worker"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        DATA_DIR: config.dataDir,
        REDIS_URL: hub.runtime.redis.url,
        QUEUE_PREFIX: config.queuePrefix,
        HUB_SOURCE_URI: config.sourceUri,
        HUB_SECRET: TEST_SECRET,
        WEBHOOK_ALLOW_CIDRS: "127.0.0.0/8",
        WEBHOOK_RETRY_SCHEDULE: "50ms,100ms,200ms",
        OUTBOX_POLL_MS: "100",
        DELIVERY_RECONCILE_MS: "200",
        DELIVERY_GRACE_MS: "1000",
        WEBHOOK_BREAKER_MS: "200",
        WEBHOOK_BREAKER_MAX_MS: "1000",
        DEMO_SEED: "off",
        NODE_ENV: "test",
        ...env,
      },
    });
    const worker = new WorkerChild(child);
    await eventually(
      () => {
        if (worker.exited) throw new Error(`the worker exited at start (${child.exitCode ?? child.signalCode}): ${worker.output}`);
        return worker.output.includes("fpr-hub worker running");
      },
      20_000,
      "the worker child starting",
    ).catch(async (error: unknown) => {
      await worker.stop("SIGKILL"); // never leave a half-started child behind
      throw error;
    });
    return worker;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The tail of what the child wrote (its log), for failure messages. */
  get log(): string {
    return this.output;
  }

  /** Sends the signal and waits for the exit (SIGKILL after 10 s). A stopped (SIGSTOP) child is continued first. */
  async stop(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill(signal);
    if (signal === "SIGTERM") this.child.kill("SIGCONT");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Freezes the process (SIGSTOP): its connections stay open and it takes no job until resume(). */
  freeze(): void {
    this.child.kill("SIGSTOP");
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }
}
