import { and, eq, inArray } from "drizzle-orm";
import type { HubDb } from "../db/client.ts";
import { watchedNumbers } from "../db/schema.ts";

/** The SQL of partners' watchlists: one statement per call, whatever the batch. */
export class WatchlistStore {
  constructor(private readonly db: HubDb) {}

  /** Adds the numbers to the partner's list; returns how many were not on it yet. */
  add(partnerId: string, numbers: readonly string[], createdAt: string): number {
    return this.db
      .insert(watchedNumbers)
      .values(numbers.map((number) => ({ partnerId, number, createdAt })))
      .onConflictDoNothing()
      .run().changes;
  }

  /** Removes the numbers from the partner's list; returns how many were on it. */
  remove(partnerId: string, numbers: string[]): number {
    return this.db
      .delete(watchedNumbers)
      .where(and(eq(watchedNumbers.partnerId, partnerId), inArray(watchedNumbers.number, numbers)))
      .run().changes;
  }
}
