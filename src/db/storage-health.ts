import fs from "node:fs";
import path from "node:path";
import type { HubConfig } from "../config.ts";
import { storageTroubleOf, type StorageReporter, type StorageTrouble } from "./storage-errors.ts";
import type { HealthChecks } from "../health-checks.ts";

/**
 * Storage health for /readyz. Two signals, each under its own health source:
 * - `storage` → problem `storage-unavailable` while writes fail with a transient storage error
 *   (disk full, busy, I/O error, read-only). Every write path tells the monitor how its writes
 *   went (StorageReporter): the audit flush, the key-use flush, the register's mutations. A writer
 *   that retries on its own clears its failure when it succeeds; a one-shot writer (a mutation the
 *   caller was told to retry) is cleared by any later successful write, or by the monitor's probe,
 *   so a hub taken out of rotation by its own 503 still finds out that space came back.
 * - `storage-space` → `storage-low` when the free space of DATA_DIR (or the database's folder)
 *   is under STORAGE_MIN_FREE_BYTES: a warning while writes still work, a problem once a write
 *   failed because the disk is full. Measured with statfs every STORAGE_CHECK_MS.
 * Failures are logged here, at most once per LOG_EVERY_MS per writer, and once when they clear.
 */
const LOG_EVERY_MS = 10_000;

interface Failure {
  trouble: StorageTrouble;
  retrying: boolean;
}

type Log = (entry: Record<string, unknown>) => void;

export interface StorageHealthOptions {
  /** Folders whose free space is watched; the least free one is reported. */
  dirs: readonly string[];
  /** Under this many free bytes: `storage-low`; 0 turns the space check off. */
  minFreeBytes: number;
  log?: Log;
}

/** The folders that fill up: DATA_DIR, and the database's folder when DATABASE_PATH puts it elsewhere. */
export function watchedDirs(config: Pick<HubConfig, "dataDir" | "databasePath">): string[] {
  return [...new Set([config.dataDir, path.dirname(config.databasePath)])];
}

async function freeBytesOf(dir: string): Promise<number | null> {
  try {
    const stats = await fs.promises.statfs(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null; // not there (yet): nothing to measure
  }
}

export class StorageHealth implements StorageReporter {
  readonly #failing = new Map<string, Failure>();
  /** Per writer: when its failure was last logged, and failures since. */
  readonly #logged = new Map<string, { at: number; since: number }>();
  readonly #log: Log;
  #timer: NodeJS.Timeout | null = null;
  #probe: (() => void) | null = null;
  #checking: Promise<void> | null = null;
  /** The least free space of the watched folders at the last check (null before it, or when none could be measured). */
  freeBytes: number | null = null;
  #lowDir: string | null = null;

  constructor(
    private readonly health: HealthChecks,
    private readonly options: StorageHealthOptions,
  ) {
    this.#log = options.log ?? (() => {});
  }

  /** Starts the periodic space check; `probe` is a write that changes nothing (see probeWrite in db/client.ts). */
  start(intervalMs: number, probe: (() => void) | null): void {
    this.#probe = probe;
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
    void this.check();
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#probe = null;
  }

  /** True while some writer's last write failed with a transient storage error. */
  get isFailing(): boolean {
    return this.#failing.size > 0;
  }

  recordStorageError(writer: string, error: unknown, options: { retrying?: boolean; pending?: string } = {}): void {
    this.#logFailure(writer, error, options.pending);
    const trouble = storageTroubleOf(error);
    if (!trouble) return; // not storage: the writer's own bug, logged above, not a readiness matter
    const retrying = options.retrying ?? true;
    const before = this.#failing.get(writer);
    this.#failing.set(writer, { trouble, retrying });
    if (before?.trouble === trouble && before.retrying === retrying) return;
    this.#report();
    if (trouble === "disk-full") void this.check(); // measure at once: the operator wants to know it is space
  }

  recordStorageOk(writer: string): void {
    if (this.#failing.size === 0 && this.#logged.size === 0) return;
    let changed = this.#failing.delete(writer);
    // A write went through: one-shot failures are over (their callers retry on their own).
    for (const [name, failure] of this.#failing) {
      if (!failure.retrying) changed = this.#failing.delete(name) || changed;
    }
    const logged = this.#logged.get(writer);
    if (logged) {
      this.#logged.delete(writer);
      this.#log({ level: "info", msg: "storage: writes work again", writer, failures: logged.since });
    }
    if (changed) this.#report();
  }

  recordStorageLoss(writer: string, what: string): void {
    this.#log({ level: "error", msg: `storage: ${what} could not be written before shutdown and are lost`, writer });
  }

  /** Measures free space and, while a one-shot failure is outstanding, probes with a write. */
  check(): Promise<void> {
    this.#checking ??= this.#measure().finally(() => (this.#checking = null));
    return this.#checking;
  }

  async #measure(): Promise<void> {
    let least: number | null = null;
    for (const dir of this.options.dirs) {
      const free = await freeBytesOf(dir);
      if (free !== null && (least === null || free < least)) {
        least = free;
        this.#lowDir = dir;
      }
    }
    this.freeBytes = least;
    this.#probeOneShot();
    this.#report();
  }

  #probeOneShot(): void {
    if (!this.#probe || ![...this.#failing.values()].some((failure) => !failure.retrying)) return;
    try {
      this.#probe();
    } catch {
      return; // still failing: the one-shot failure stands
    }
    this.recordStorageOk("probe");
  }

  #logFailure(writer: string, error: unknown, pending: string | undefined): void {
    const now = Date.now();
    const logged = this.#logged.get(writer) ?? { at: -Infinity, since: 0 };
    logged.since += 1;
    this.#logged.set(writer, logged);
    if (now - logged.at < LOG_EVERY_MS) return;
    logged.at = now;
    const trouble = storageTroubleOf(error);
    const kept = pending ? `; ${pending} kept in memory, retried` : "";
    this.#log({ level: "error", msg: `storage: ${writer} could not write${kept}`, writer, trouble, failures: logged.since, error: String(error) });
  }

  #report(): void {
    const failures = [...this.#failing.entries()];
    if (failures.length === 0) {
      this.health.report("storage", null);
    } else {
      const troubles = [...new Set(failures.map(([, failure]) => failure.trouble))].join(", ");
      const writers = failures.map(([writer]) => writer).join(", ");
      const detail = `storage writes are failing (${troubles}; ${writers}): reads are answered, audit records and key use wait in memory, changes are refused with SERVICE_UNAVAILABLE; free space or fix the storage`;
      this.health.report("storage", { code: "storage-unavailable", severity: "problem", detail });
    }
    this.#reportSpace(failures.some(([, failure]) => failure.trouble === "disk-full"));
  }

  #reportSpace(full: boolean): void {
    const { minFreeBytes } = this.options;
    if (this.freeBytes === null || minFreeBytes === 0 || this.freeBytes >= minFreeBytes) {
      this.health.report("storage-space", null);
      return;
    }
    const detail = `${this.freeBytes} bytes free in ${this.#lowDir}, under STORAGE_MIN_FREE_BYTES=${minFreeBytes}${full ? "; writes fail: the disk is full" : ""}`;
    this.health.report("storage-space", { code: "storage-low", severity: full ? "problem" : "warning", detail });
  }
}
