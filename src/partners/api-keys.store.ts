import type { Statement } from "better-sqlite3";
import { eq } from "drizzle-orm";
import { inTransaction, writeReturning, type HubDb } from "../db/client.ts";
import { apiKeys, partners } from "../db/schema.ts";

export type KeyRow = typeof apiKeys.$inferSelect;
/** What authentication reads of a key. */
export type AuthRow = Pick<KeyRow, "id" | "partnerId" | "role" | "scopes" | "lastUsedAt" | "revokedAt">;
export type NewKey = Pick<KeyRow, "id" | "partnerId" | "role" | "scopes" | "prefix" | "secretDigest" | "createdAt">;

/** The api_keys table: the lookup every request makes, key management, and the batched last-use writes. */
export class ApiKeyStore {
  readonly #byDigest: Statement<[string], AuthRow>;
  readonly #touch: Statement<{ id: string; at: string }>;

  constructor(private readonly db: HubDb) {
    // Raw statement: every request authenticates, and drizzle's row mapping cost more than the query.
    this.#byDigest = db.$client.prepare<[string], AuthRow>(
      "SELECT id, partner_id AS partnerId, role, scopes, last_used_at AS lastUsedAt, revoked_at AS revokedAt FROM api_keys WHERE secret_digest = ?",
    );
    // Never moves last_used_at backwards: another process may have written a newer use.
    this.#touch = db.$client.prepare("UPDATE api_keys SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)");
  }

  /** The key whose secret has this SHA-256 digest. */
  byDigest(secretDigest: string): AuthRow | undefined {
    return this.#byDigest.get(secretDigest);
  }

  byId(id: string): KeyRow | undefined {
    return this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  }

  partnerExists(partnerId: string): boolean {
    return !!this.db.select({ id: partners.id }).from(partners).where(eq(partners.id, partnerId)).get();
  }

  /** Inserts a key; the row is returned only once it is surely stored (writeReturning). */
  insert(values: NewKey): KeyRow {
    const insert = this.db.insert(apiKeys).values(values).returning();
    return writeReturning(this.db, () => insert.get());
  }

  /** Marks a key revoked; the row is returned only once the revocation is surely stored. */
  revoke(id: string, revokedAt: string): KeyRow | undefined {
    return writeReturning(this.db, () => this.db.update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, id)).returning().get());
  }

  /** Writes key uses (id, ISO time) in one transaction. */
  writeUses(uses: readonly (readonly [id: string, at: string])[]): void {
    inTransaction(this.db, () => {
      for (const [id, at] of uses) this.#touch.run({ id, at });
    });
  }

  /** False once the database is closed (shutdown): nothing more can be written. */
  get isOpen(): boolean {
    return this.db.$client.open;
  }
}
