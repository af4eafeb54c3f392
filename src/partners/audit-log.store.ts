import type { Statement } from "better-sqlite3";
import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { auditLog, partners } from "../db/schema.ts";

export type AuditRow = typeof auditLog.$inferInsert;

/** The audit_log table, and the partners' "observed" evidence its records carry. */
export class AuditStore {
  readonly #insert: Statement<[AuditRow]>;

  constructor(private readonly db: HubDb) {
    this.#insert = db.$client.prepare<[AuditRow]>(
      "INSERT INTO audit_log (id, at, kind, key_id, partner_id, number_digest, version, result) VALUES (@id, @at, @kind, @keyId, @partnerId, @numberDigest, @version, @result)",
    );
  }

  /**
   * Writes records and, in the same transaction, moves each partner's lastV2023CheckAt forward to
   * the time given in `observed` (partner id → time); an older time never replaces a newer one.
   */
  writeChunk(rows: readonly AuditRow[], observed: ReadonlyMap<string, string>): void {
    this.db.$client.transaction(() => {
      for (const row of rows) this.#insert.run(row);
      for (const [partnerId, at] of observed) {
        this.db
          .update(partners)
          .set({ lastV2023CheckAt: at })
          .where(and(eq(partners.id, partnerId), or(isNull(partners.lastV2023CheckAt), lt(partners.lastV2023CheckAt, at))))
          .run();
      }
    })();
  }

  /** Deletes records older than `cutoff` (ISO time); returns how many. */
  deleteBefore(cutoff: string): number {
    return this.db.delete(auditLog).where(lt(auditLog.at, cutoff)).run().changes;
  }

  /** False once the database is closed (shutdown): nothing more can be written. */
  get isOpen(): boolean {
    return this.db.$client.open;
  }
}
