/** The miss ledger's rule and reservations, shared by the Redis ledger (miss-ledger.ts) and its in-process stand-in (miss-ledger-memory.ts). */

/** When repeated misses slow down (one attempt per `slowMs`) and then block (until the window ends). */
export interface MissRule {
  slowAfter: number;
  slowMs: number;
  blockAfter: number;
  /** How long a count lives from its first reservation, and again from the reservation that reaches `blockAfter`. */
  blockMs: number;
}

/** A reservation's outcome: the counts' generations, or why it was refused (`subject` is an index). */
export type Reserved = { ok: true; gens: string[] } | { ok: false; reason: "BLOCKED" | "SLOW"; subject: number; retryMs: number };

/** One attempt's reserved miss, to refund when the attempt turns out not to be a miss. */
export interface Reservation {
  counters: string[];
  gens: string[];
  store: "redis" | "memory";
}
