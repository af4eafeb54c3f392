import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { HubConfig } from "../src/config.ts";
import type { Logger } from "../src/app/logger.ts";
import type { MaintenanceJobName } from "./job-data.ts";

/**
 * The one home of the maintenance schedules (expiry sweep, audit purge, upload sweep) and of
 * keeping them. They live in Redis as BullMQ job schedulers, so a Redis that restarts empty (or
 * loses keys) forgets them, and CARD_EXPIRED events would stop until some worker restarted. The
 * worker therefore ensures them at start, after every reconnect and every `REDIS_CHECK_MS`.
 *
 * Ensuring touches only a schedule that is missing, runs at another interval than configured, or
 * whose next run is gone (its job missing or already finished: BullMQ adds the next run when a
 * run starts, and gives up on it if Redis fails at that moment). `upsertJobScheduler` is safe
 * for those and for a race with a run starting (BullMQ 5, addJobScheduler.lua): with the same
 * `every` it keeps the scheduler's next time and replaces its delayed job rather than adding a
 * second one, so the schedule is neither reset nor doubled; a new `every` starts afresh.
 */
export function maintenanceSchedules(config: HubConfig): Record<MaintenanceJobName, number> {
  return {
    "cards.expire-sweep": config.worker.expirySweepMs,
    "audit.purge": 6 * 3600 * 1000,
    // Uploads of finished or removed imports, and partial uploads that stopped, are removed hourly.
    "imports.sweep": 3600 * 1000,
  };
}

/** States in which a scheduler's next job will still run (and schedule the one after it). */
const PENDING_STATES = new Set(["delayed", "waiting", "prioritized", "active", "waiting-children"]);

/** Why a schedule needs (re-)making, or null when it is in place. */
async function whatIsWrong(queue: Queue, id: string, every: number): Promise<string | null> {
  const scheduler = await queue.getJobScheduler(id);
  if (!scheduler) return "missing";
  if (scheduler.every !== every) return "interval changed";
  if (scheduler.next == null) return "no next run";
  const next = await queue.getJob(`repeat:${id}:${scheduler.next}`);
  if (!next) return "next run missing";
  const state = await next.getState();
  return PENDING_STATES.has(state) ? null : `next run ${state}`;
}

/** Makes every schedule that is not in place; returns what it fixed, e.g. `cards.expire-sweep (missing)`. */
export async function ensureMaintenanceSchedules(queue: Queue, config: HubConfig): Promise<string[]> {
  const fixed: string[] = [];
  for (const [id, every] of Object.entries(maintenanceSchedules(config))) {
    const wrong = await whatIsWrong(queue, id, every);
    if (wrong === null) continue;
    await queue.upsertJobScheduler(id, { every }, { name: id });
    fixed.push(`${id} (${wrong})`);
  }
  return fixed;
}

export interface MaintenanceKeeper {
  close(): void;
}

/**
 * Ensures the schedules now (awaited, as the worker did before), then on every `ready` of the
 * worker's connection and every `REDIS_CHECK_MS`. A failure is logged and tried again next time.
 */
export async function keepMaintenanceSchedules(queue: Queue, connection: Redis, config: HubConfig, log: Logger): Promise<MaintenanceKeeper> {
  let running: Promise<void> | null = null;
  let started = false;
  const ensure = (): Promise<void> => {
    running ??= ensureMaintenanceSchedules(queue, config)
      .then((fixed) => {
        // At the first start making them is normal; later it means Redis lost them.
        if (fixed.length > 0) log({ level: started ? "warn" : "info", msg: `maintenance schedules re-made: ${fixed.join(", ")}` });
      })
      .catch((error: unknown) => log({ level: "warn", msg: "maintenance schedules not checked; trying again", error: String(error) }))
      .finally(() => {
        started = true;
        running = null;
      });
    return running;
  };
  const onReady = (): void => void ensure();
  connection.on("ready", onReady);
  const timer = setInterval(onReady, config.redisCheckMs);
  timer.unref();
  await ensure();
  return {
    close() {
      clearInterval(timer);
      connection.off("ready", onReady);
    },
  };
}
