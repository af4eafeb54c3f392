import type { Statement } from "better-sqlite3";
import type { HubDb } from "../db/client.ts";

const backlogCounters = new WeakMap<HubDb["$client"], Statement>();

/** How many committed events are still in the outbox (their deliveries not yet in the ledger): /metrics' backlog. */
export function countUndispatched(db: HubDb): number {
  let counter = backlogCounters.get(db.$client);
  if (!counter) {
    counter = db.$client.prepare("SELECT count(*) AS n FROM events WHERE dispatched_at IS NULL");
    backlogCounters.set(db.$client, counter);
  }
  return (counter.get() as { n: number }).n;
}
