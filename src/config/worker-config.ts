/** The worker's pace, the storage watch and bulk-import limits. */
import { readInt, type Env } from "./env-values.ts";

export interface WorkerConfig {
  /** Delivery jobs run at once per lane; `WORKER_CONCURRENCY`, default 32. */
  concurrency: number;
  /** How often the worker looks for events not yet handed to the queue; `OUTBOX_POLL_MS`. */
  outboxPollMs: number;
  /** How often cards past validUntil are marked EXPIRED; `EXPIRY_SWEEP_MS`, default 1 h. */
  expirySweepMs: number;
  /** Job lock; a job whose worker died is retried after it lapses; `JOB_LOCK_MS`, default 30 s. */
  lockMs: number;
  /** How often the reconciler looks for deliveries whose job Redis lost; `DELIVERY_RECONCILE_MS`, default 10 s. */
  reconcileMs: number;
  /** A queued delivery overdue by this long is checked against Redis; `DELIVERY_GRACE_MS`, default 30 s. */
  graceMs: number;
}

export interface StorageConfig {
  /** Under this many free bytes in DATA_DIR, /readyz warns `storage-low`; `STORAGE_MIN_FREE_BYTES`, default 64 MiB, 0 for no check. */
  minFreeBytes: number;
  /** How often free space is measured; `STORAGE_CHECK_MS`, default 5 s. */
  checkMs: number;
}

export interface ImportConfig {
  /** Largest upload `POST /imports` accepts, in bytes; `IMPORT_MAX_BYTES`, default 1 GiB. */
  maxUploadBytes: number;
  /** Imports uploading, waiting or running at once per issuer key; `IMPORT_MAX_PER_KEY`, default 2. */
  maxPerKey: number;
}

export function readWorker(env: Env): WorkerConfig {
  return {
    concurrency: readInt(env, "WORKER_CONCURRENCY", 32, 1, 512),
    outboxPollMs: readInt(env, "OUTBOX_POLL_MS", 1000, 10, 60_000),
    expirySweepMs: readInt(env, "EXPIRY_SWEEP_MS", 3_600_000, 100, 86_400_000),
    lockMs: readInt(env, "JOB_LOCK_MS", 30_000, 500, 600_000),
    reconcileMs: readInt(env, "DELIVERY_RECONCILE_MS", 10_000, 10, 600_000),
    graceMs: readInt(env, "DELIVERY_GRACE_MS", 30_000, 10, 3_600_000),
  };
}

export function readStorage(env: Env): StorageConfig {
  return {
    minFreeBytes: readInt(env, "STORAGE_MIN_FREE_BYTES", 64 * 1024 ** 2, 0, 1024 ** 5),
    checkMs: readInt(env, "STORAGE_CHECK_MS", 5_000, 100, 600_000),
  };
}

export function readImports(env: Env): ImportConfig {
  return {
    maxUploadBytes: readInt(env, "IMPORT_MAX_BYTES", 1024 ** 3, 1024, 64 * 1024 ** 3),
    maxPerKey: readInt(env, "IMPORT_MAX_PER_KEY", 2, 1, 100),
  };
}
