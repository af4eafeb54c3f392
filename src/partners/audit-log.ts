import crypto from "node:crypto";
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { auditLog, partners } from "../db/schema.ts";
import type { Digester } from "../hub-secret.ts";

/** A check, a verification, or a number added to / removed from a watchlist. */
export type AuditKind = "CHECK" | "VERIFY" | "WATCH" | "UNWATCH";

export interface AuditEntry {
  kind: AuditKind;
  keyId: string | null;
  partnerId: string | null;
  /** The normalized number, or null when the input was not a card number; only its digest is stored. */
  number: string | null;
  version: string | null;
  result: string;
}

type AuditRow = typeof auditLog.$inferInsert;

const FLUSH_MS = 250;
const MAX_BUFFER = 5000;
/** Results that mean the number exists on the register (evidence a partner handles V2023 numbers). */
const EXISTING = new Set(["VALID", "EXPIRED", "SUPERSEDED", "REPORTED_LOST", "REVOKED", "HOLDER_INACTIVE", "MATCH", "NO_MATCH", "CARD_NOT_VALID"]);

/**
 * The audit trail. Checks are buffered and written in one transaction every 250 ms (or sooner
 * when the buffer fills), so auditing adds no write to a lookup; verifications are written at
 * once. Ids are made here, so a buffered record has its id before it is written.
 */
export class AuditLog {
  #buffer: AuditRow[] = [];
  readonly #insert;
  /** Ids are a random per-process prefix and a counter: unique without a random draw per record. */
  readonly #idPrefix = `aud_${crypto.randomBytes(8).toString("base64url")}`;
  #idCounter = 0;
  /** Told of every record (metrics). */
  onRecord: ((entry: AuditEntry) => void) | null = null;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly db: HubDb,
    private readonly digester: Digester,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#insert = db.$client.prepare(
      "INSERT INTO audit_log (id, at, kind, key_id, partner_id, number_digest, version, result) VALUES (@id, @at, @kind, @keyId, @partnerId, @numberDigest, @version, @result)",
    );
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

  /** Buffers a record; returns its id. */
  record(entry: AuditEntry): string {
    this.onRecord?.(entry);
    const row = this.toRow(entry);
    this.#buffer.push(row);
    if (this.#buffer.length >= MAX_BUFFER) this.flush();
    return row.id;
  }

  /** Writes a record at once (with anything buffered); returns its id. */
  recordNow(entry: AuditEntry): string {
    const id = this.record(entry);
    this.flush();
    return id;
  }

  flush(): void {
    // A closed database (shutdown) keeps nothing more; the records still buffered are dropped.
    if (this.#buffer.length === 0 || !this.db.$client.open) return;
    const rows = this.#buffer;
    this.#buffer = [];
    this.db.$client.transaction(() => {
      for (const row of rows) this.#insert.run(row);
      this.markObserved(rows);
    })();
  }

  /** Partners that checked an existing V2023 number: the "observed" evidence of adaptation. */
  private markObserved(rows: AuditRow[]): void {
    const latest = new Map<string, string>();
    for (const row of rows) {
      if (row.partnerId && row.version === "V2023" && EXISTING.has(row.result)) latest.set(row.partnerId, row.at);
    }
    for (const [partnerId, at] of latest) {
      this.db
        .update(partners)
        .set({ lastV2023CheckAt: at })
        .where(and(eq(partners.id, partnerId), or(isNull(partners.lastV2023CheckAt), lt(partners.lastV2023CheckAt, at))))
        .run();
    }
  }

  /** Deletes records older than the retention period; returns how many. */
  purge(retentionDays: number): number {
    this.flush();
    const cutoff = new Date(this.now().getTime() - retentionDays * 86_400_000).toISOString();
    return this.db.delete(auditLog).where(lt(auditLog.at, cutoff)).run().changes;
  }

  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}

