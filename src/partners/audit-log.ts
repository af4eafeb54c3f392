import crypto from "node:crypto";
import type { AuditKind } from "../db/column-types.ts";
import type { HubDb } from "../db/client.ts";
import { NO_STORAGE_REPORTER, storageTroubleOf, storageUnavailable, type StorageReporter, type StorageTrouble } from "../db/storage-errors.ts";
import type { Digester } from "../hub-secret.ts";
import { AuditStore, type AuditRow } from "./audit-log.store.ts";

// The list is kept beside the table definitions, which type audit_log.kind with it.
export type { AuditKind } from "../db/column-types.ts";

export interface AuditEntry {
  kind: AuditKind;
  keyId: string | null;
  partnerId: string | null;
  /** The normalized number, or null when the input was not a card number; only its digest is stored. */
  number: string | null;
  version: string | null;
  result: string;
}

const FLUSH_MS = 250;
/** Records per transaction; a lookup flushes at once when this many wait (while writes work). */
const FLUSH_CHUNK = 5000;
const RETRY_CHUNK = 100;
/** Records held in memory while storage cannot take them (about 500 bytes each); past this, checks are refused. */
const MAX_PENDING_AUDIT = 100_000;

export interface AuditLogOptions {
  /** Told how each flush went (the storage monitor). */
  storage?: StorageReporter;
  maxPending?: number;
  /** Told of every record (metrics). */
  onRecord?: (entry: AuditEntry) => void;
}

/** Results that mean the number exists on the register (evidence a partner handles V2023 numbers). */
const EXISTING = new Set(["VALID", "EXPIRED", "SUPERSEDED", "REPORTED_LOST", "REVOKED", "HOLDER_INACTIVE", "MATCH", "NO_MATCH", "CARD_NOT_VALID"]);

/**
 * Partners that checked an existing V2023 number, with the time of their latest such check in
 * `rows`: the "observed" evidence of adaptation, written with the records.
 */
function observedChecks(rows: readonly AuditRow[]): Map<string, string> {
  const latest = new Map<string, string>();
  for (const row of rows) {
    if (row.partnerId && row.version === "V2023" && EXISTING.has(row.result)) latest.set(row.partnerId, row.at);
  }
  return latest;
}

/**
 * The audit trail. Checks are buffered and written in one transaction every 250 ms (or sooner
 * when the buffer fills), so auditing adds no write to a lookup; verifications are written at
 * once. Ids are made here, so a buffered record has its id before it is written.
 *
 * Every answered check is audited, and storage trouble does not change that: a flush that fails
 * (disk full, database busy) keeps the records, oldest first, and the next tick tries again, so
 * checks are still answered while the disk is full and their records are written once space comes
 * back. Only when MAX_PENDING_AUDIT records wait does a check get SERVICE_UNAVAILABLE instead of
 * an answer nobody could audit: records are refused, never dropped. A flush never throws (it runs
 * on a timer, where a throw would end the process).
 */
export class AuditLog {
  #buffer: AuditRow[] = [];
  /** The trouble of the last failed flush, until one succeeds. */
  #failing: StorageTrouble | "other" | null = null;
  readonly #storage: StorageReporter;
  readonly #maxPending: number;
  readonly #store: AuditStore;
  /** Ids are a random per-process prefix and a counter: unique without a random draw per record. */
  readonly #idPrefix = `aud_${crypto.randomBytes(8).toString("base64url")}`;
  #idCounter = 0;
  /** Told of every record (metrics). */
  readonly #onRecord: ((entry: AuditEntry) => void) | null;
  readonly #timer: NodeJS.Timeout;

  constructor(
    db: HubDb,
    private readonly digester: Digester,
    private readonly now: () => Date = () => new Date(),
    options: AuditLogOptions = {},
  ) {
    this.#storage = options.storage ?? NO_STORAGE_REPORTER;
    this.#maxPending = options.maxPending ?? MAX_PENDING_AUDIT;
    this.#onRecord = options.onRecord ?? null;
    this.#store = new AuditStore(db);
    this.#timer = setInterval(() => this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  private toRow(entry: AuditEntry): AuditRow {
    return {
      id: `${this.#idPrefix}${(this.#idCounter++).toString(36)}`,
      at: this.now().toISOString(),
      kind: entry.kind,
      keyId: entry.keyId,
      partnerId: entry.partnerId,
      numberDigest: entry.number === null ? null : this.digester.digest("audit.number", entry.number),
      version: entry.version,
      result: entry.result,
    };
  }

  /** Records waiting to be written. */
  get pendingCount(): number {
    return this.#buffer.length;
  }

  /**
   * Refuses (SERVICE_UNAVAILABLE) when `count` more records cannot be held: storage has been
   * failing long enough to fill the buffer. Call before answering a batch, so it is refused whole.
   */
  requireRoom(count: number): void {
    if (this.#buffer.length === 0 || this.#buffer.length + count <= this.#maxPending) return;
    // While writes work the buffer never gets here; while they fail, the timer retries (not every caller).
    if (this.#failing === null && this.flush()) return;
    throw this.#unavailable();
  }

  /** Writes everything buffered, or throws SERVICE_UNAVAILABLE: for a process about to exit, which cannot keep them. */
  flushOrRefuse(): void {
    if (!this.flush()) throw this.#unavailable();
  }

  #unavailable(): Error {
    return storageUnavailable(this.#failing === null || this.#failing === "other" ? "io-error" : this.#failing);
  }

  /** Buffers a record; returns its id. */
  record(entry: AuditEntry): string {
    this.requireRoom(1);
    const row = this.toRow(entry);
    this.#buffer.push(row);
    this.#onRecord?.(entry);
    if (this.#buffer.length >= FLUSH_CHUNK && this.#failing === null) this.flush();
    return row.id;
  }

  /** Writes a record at once (with anything buffered); returns its id. If storage fails, it waits in the buffer. */
  recordNow(entry: AuditEntry): string {
    const id = this.record(entry);
    this.flush();
    return id;
  }

  /** Writes what is buffered, oldest first, a chunk per transaction. True when nothing is left; never throws. */
  flush(): boolean {
    // A closed database (shutdown) takes nothing more: close() reports what is left.
    if (this.#buffer.length === 0) return true;
    if (!this.#store.isOpen) return false;
    // While failing, each tick first tries a few records rather than a whole chunk of work in vain.
    let chunk = this.#failing === null ? FLUSH_CHUNK : RETRY_CHUNK;
    while (this.#buffer.length > 0) {
      const rows = this.#buffer.slice(0, chunk);
      try {
        this.#store.writeChunk(rows, observedChecks(rows));
      } catch (error) {
        this.#failing = storageTroubleOf(error) ?? "other";
        this.#storage.recordStorageError("audit", error, { pending: `${this.#buffer.length} audit records` });
        return false;
      }
      this.#buffer.splice(0, rows.length);
      chunk = FLUSH_CHUNK;
    }
    this.#failing = null;
    this.#storage.recordStorageOk("audit");
    return true;
  }

  /** Deletes records older than the retention period; returns how many. */
  purge(retentionDays: number): number {
    this.flush();
    const cutoff = new Date(this.now().getTime() - retentionDays * 86_400_000).toISOString();
    return this.#store.deleteBefore(cutoff);
  }

  close(): void {
    clearInterval(this.#timer);
    if (!this.flush()) this.#storage.recordStorageLoss("audit", `${this.#buffer.length} audit records`);
  }
}

