import { and, eq, inArray } from "drizzle-orm";
import type { CardQueries } from "../cards/card-queries.ts";
import { requireCardNumber } from "../cards/card-rules.ts";
import type { HubDb } from "../db/client.ts";
import { watches } from "../db/schema.ts";
import { HubError } from "../errors.ts";

export const MAX_WATCH_BATCH = 1000;

/**
 * The cards of a partner's own customers. A watch is kept by holder, so it follows re-issues and
 * the V2017 → V2023 switch. Numbers not on the register are not watched (and not counted).
 */
export class Watchlist {
  constructor(
    private readonly db: HubDb,
    private readonly queries: CardQueries,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private holdersOf(numbers: readonly string[]): number[] {
    if (numbers.length > MAX_WATCH_BATCH) {
      throw new HubError("BAD_USER_INPUT", `at most ${MAX_WATCH_BATCH} numbers per call`, { field: "numbers" });
    }
    const normalized = numbers.map((number) => requireCardNumber(number, "numbers").normalized);
    const found = this.queries.instancesOfMany([...new Set(normalized)]);
    return [...new Set([...found.values()].map((instances) => instances[0].holderId))];
  }

  /** Returns how many holders were newly watched. */
  watch(partnerId: string, numbers: readonly string[]): number {
    const holderIds = this.holdersOf(numbers);
    if (holderIds.length === 0) return 0;
    const createdAt = this.now().toISOString();
    const added = this.db
      .insert(watches)
      .values(holderIds.map((holderId) => ({ partnerId, holderId, createdAt })))
      .onConflictDoNothing()
      .run();
    return added.changes;
  }

  /** Returns how many holders stopped being watched. */
  unwatch(partnerId: string, numbers: readonly string[]): number {
    const holderIds = this.holdersOf(numbers);
    if (holderIds.length === 0) return 0;
    return this.db
      .delete(watches)
      .where(and(eq(watches.partnerId, partnerId), inArray(watches.holderId, holderIds)))
      .run().changes;
  }
}
