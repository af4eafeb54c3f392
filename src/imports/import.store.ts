import { sql } from "drizzle-orm";
import { preparedOnce, type HubDb } from "../db/client.ts";
import { deferIndexes, restoreDeferredIndexes } from "../db/deferred-indexes.ts";

// What a bulk import asks of the database beside the register's own statements (cards/register.store.ts).

/** True when no card is on the register yet (a first load may then skip events). */
export function isRegisterEmpty(db: HubDb): boolean {
  return !db.get<{ one: number }>(sql`SELECT 1 AS one FROM cards LIMIT 1`);
}

/** Drops the register's secondary indexes for a first load; they are rebuilt once at its end (see deferIndexes). */
export function deferRegisterIndexes(db: HubDb): void {
  deferIndexes(db.$client);
}

/** Rebuilds the indexes a first load dropped. */
export function restoreRegisterIndexes(db: HubDb): void {
  restoreDeferredIndexes(db.$client);
}

/** Rows written by this connection so far (tells whether a failed record had written anything). */
export function changesSoFar(db: HubDb): number {
  return preparedOnce<[], { n: number }>(db, "SELECT total_changes() AS n").get()!.n;
}
