import { asc, eq, sql } from "drizzle-orm";
import { writeReturning, type HubDb } from "../db/client.ts";
import { partners } from "../db/schema.ts";
import type { AdaptationState } from "../db/column-types.ts";

export type PartnerRow = typeof partners.$inferSelect;
export type NewPartner = Pick<typeof partners.$inferInsert, "id" | "name" | "industry" | "provinceCode" | "createdAt">;

/** The partners table (admin paths: no statement here is on a request's hot path). */
export class PartnerStore {
  constructor(private readonly db: HubDb) {}

  /** Inserts a partner; the row is returned only once it is surely stored (writeReturning). */
  insert(values: NewPartner): PartnerRow {
    return writeReturning(this.db, () => this.db.insert(partners).values(values).returning().get());
  }

  byId(id: string): PartnerRow | undefined {
    return this.db.select().from(partners).where(eq(partners.id, id)).get();
  }

  /** Every partner, oldest first (rowid breaks ties between partners created in one millisecond). */
  all(): PartnerRow[] {
    return this.db.select().from(partners).orderBy(asc(partners.createdAt), sql`rowid`).all();
  }

  /** Stores a partner's declaration; undefined when there is no such partner. */
  setDeclared(id: string, declared: { declaredAdaptation: AdaptationState; declaredAt: string }): PartnerRow | undefined {
    return writeReturning(this.db, () => this.db.update(partners).set(declared).where(eq(partners.id, id)).returning().get());
  }
}
