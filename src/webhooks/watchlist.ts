import { requireCardNumber } from "../cards/card-rules.ts";
import type { HubDb } from "../db/client.ts";
import { HubError } from "../errors.ts";
import type { AuditLog } from "../partners/audit-log.ts";
import { WatchlistStore } from "./watchlist.store.ts";

export const MAX_WATCH_BATCH = 1000;

/** Who is watching: the partner whose list it is, and the key the audit names. */
export interface Watcher {
  keyId: string;
  partnerId: string | null;
}

/**
 * The cards of a partner's own customers, kept by card number. Any well-formed number can be
 * watched, on the register or not, and the register is never read here: the counts returned say
 * only how the partner's own list changed, nothing about whether a number exists or whose it is.
 * What a watch makes visible (renewals; the V2023 switch only with LINEAGE_READ) is decided in
 * events/event-visibility.ts. Every number is audited like a check.
 */
export class Watchlist {
  private readonly store: WatchlistStore;

  constructor(
    db: HubDb,
    private readonly audit: AuditLog | null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.store = new WatchlistStore(db);
  }

  /** The distinct normalized numbers, each audited; refuses the whole call on any malformed one. */
  private numbersOf(watcher: Watcher, numbers: readonly string[], kind: "WATCH" | "UNWATCH"): string[] {
    if (!watcher.partnerId) throw new HubError("FORBIDDEN", "only a partner key has a watchlist");
    if (numbers.length > MAX_WATCH_BATCH) {
      throw new HubError("BAD_USER_INPUT", `at most ${MAX_WATCH_BATCH} numbers per call`, { field: "numbers" });
    }
    const now = this.now();
    const parsed = numbers.map((number) => requireCardNumber(number, "numbers", now));
    const result = kind === "WATCH" ? "WATCHED" : "UNWATCHED";
    this.audit?.requireRoom(parsed.length);
    for (const { normalized, version } of parsed) {
      this.audit?.record({ kind, keyId: watcher.keyId, partnerId: watcher.partnerId, number: normalized, version, result });
    }
    return [...new Set(parsed.map((p) => p.normalized))];
  }

  /** Returns how many of the given (distinct, normalized) numbers were not yet on the list. */
  watch(watcher: Watcher, numbers: readonly string[]): number {
    const list = this.numbersOf(watcher, numbers, "WATCH");
    if (list.length === 0) return 0;
    return this.store.add(watcher.partnerId!, list, this.now().toISOString());
  }

  /** Returns how many of the given numbers were on the list and were removed. */
  unwatch(watcher: Watcher, numbers: readonly string[]): number {
    const list = this.numbersOf(watcher, numbers, "UNWATCH");
    if (list.length === 0) return 0;
    return this.store.remove(watcher.partnerId!, list);
  }
}
