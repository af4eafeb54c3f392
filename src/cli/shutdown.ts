import type { HealthChecks } from "../health-checks.ts";

/**
 * How `fpr-hub start`, `api` and `worker` stop. The first SIGTERM or SIGINT:
 * 1. reports the problem `shutting-down`, so /readyz answers 503 from that moment (on the
 *    operations listener too, which stays up until the api has drained);
 * 2. closes the first stage together: the api (no new connections; requests in flight are
 *    answered, each with `Connection: close`), the worker (jobs in flight finish, the delivery
 *    runner waits for attempts that outlived their job), the operations listener;
 * 3. closes the runtime: audit records and key use still in memory are written, queues and Redis
 *    connections closed, the database closed, a redis-server the hub started is stopped;
 * 4. exits 0.
 * When that takes longer than SHUTDOWN_GRACE_MS, one log line names what is still running and the
 * process exits 1 (a private redis-server still gets SIGTERM on exit; a job cut short is retried
 * by a worker once its lock lapses, a delivery's ledger row is still owed). A second signal exits
 * at once: 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as a shell reports a
 * process the signal ended). Either way audit records and key use still in memory are written
 * first (`flushNow`, synchronous SQLite), so a forced stop loses no audit record either.
 */

export interface StopPart {
  name: string;
  close(): Promise<void>;
  /** What it is still doing, for the grace-period line (e.g. "2 connections open"). */
  describe?(): Promise<string | null>;
}

export interface ShutdownOptions {
  health: HealthChecks;
  log: (entry: Record<string, unknown>) => void;
  graceMs: number;
  /** Closed in order, the parts of one stage together; read when the signal comes. */
  stages: () => StopPart[][];
  exit?: (code: number) => void;
  /** Before a forced exit (grace over, second signal): writes at once what must not be lost (audit records, key use). */
  flushNow?: () => void;
  /** Where the signals come from (default: this process). */
  signals?: Pick<NodeJS.EventEmitter, "on">;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

async function describeRunning(running: Set<StopPart>): Promise<string[]> {
  return Promise.all(
    [...running].map(async (part) => {
      const detail = await part.describe?.().catch(() => null);
      return detail ? `${part.name} (${detail})` : part.name;
    }),
  );
}

/** Runs the stages; a part that fails to close is logged (and the rest still closed). */
async function closeStages(stages: StopPart[][], running: Set<StopPart>, log: ShutdownOptions["log"]): Promise<void> {
  for (const stage of stages) {
    await Promise.all(
      stage.map(async (part) => {
        try {
          await part.close();
        } catch (error) {
          log({ level: "error", msg: `stopping: ${part.name} failed to close`, error: String(error) });
        } finally {
          running.delete(part);
        }
      }),
    );
  }
}

/** Installs the SIGTERM and SIGINT handlers; returns the function that stops as the first signal would. */
export function stopOnSignals(options: ShutdownOptions): (signal: StopSignal) => void {
  const exitNow = options.exit ?? ((code: number) => process.exit(code));
  const exit = (code: number): void => {
    if (code !== 0) {
      try {
        options.flushNow?.();
      } catch (error) {
        options.log({ level: "error", msg: "stopping: the last flush failed", error: String(error) });
      }
    }
    exitNow(code);
  };
  const running = new Set<StopPart>();
  let stopping: StopSignal | null = null;
  const stop = (signal: StopSignal): void => {
    if (stopping) {
      options.log({ level: "warn", msg: `stopping: second signal (${signal}); exiting now`, stillRunning: [...running].map((p) => p.name) });
      exit(SIGNAL_EXIT_CODES[signal]);
      return;
    }
    stopping = signal;
    const stages = options.stages();
    for (const part of stages.flat()) running.add(part);
    options.health.report("shutdown", { code: "shutting-down", severity: "problem", detail: `stopping on ${signal}: no new work is taken`, logLevel: "info" });
    options.log({ level: "info", msg: `stopping on ${signal}: finishing work in flight (at most ${options.graceMs} ms; a second signal exits at once)` });
    const grace = setTimeout(() => {
      void describeRunning(running).then((names) => {
        options.log({ level: "error", msg: `stopping: grace period of ${options.graceMs} ms over; exiting with work unfinished: ${names.join(", ")}`, stillRunning: names });
        exit(1);
      });
    }, options.graceMs); // not unref'd: a close that hangs on a promise alone must not end as a clean exit
    void closeStages(stages, running, options.log).then(() => {
      clearTimeout(grace);
      options.log({ level: "info", msg: "stopped" });
      exit(0);
    });
  };
  const signals = options.signals ?? process;
  signals.on("SIGTERM", () => stop("SIGTERM"));
  signals.on("SIGINT", () => stop("SIGINT"));
  return stop;
}
