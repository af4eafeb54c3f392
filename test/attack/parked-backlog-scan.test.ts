import { afterAll, describe, expect, it } from "vitest";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";
import { BREAKER_FAILURES } from "../../src/webhooks/endpoint-breaker.ts";

/**
 * Attack on issue 11 (d): can one partner make the relay loop hot? Every event a parked endpoint
 * receives while parked adds a row it owes: an hour's park at 20 events a second is 72,000 rows.
 * (Found: they waited unqueued and due, so every relay pass, in the api and in the worker, read
 * the whole parked backlog on the event loop. Now the runner moves them to wait for the breaker,
 * queued = 2, where the hand-off never reads them.)
 *
 * What must hold: a relay pass (releasing what waited, then the hand-off query) costs about what
 * it hands over, whatever one parked partner has piled up. Measured as a ratio of the same pass's
 * cost with and without a parked backlog beside the same 500 due rows of a healthy endpoint (no
 * absolute time is asserted).
 */
const PARKED_BACKLOG = 100_000;
const ROUNDS = 20;

describe("a parked endpoint's backlog", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("does not make every hand-off pass read it", async () => {
    const hub = await TestHub.start();
    cleanups.push(() => hub.close());
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    const healthy = await subscribe(hub, partner, "http://127.0.0.1:9/healthy", ["CARD_ISSUED"]);
    const parked = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, "http://127.0.0.1:9/parked", ["CARD_ISSUED"]);
    const { ledger, db } = hub.services;
    const now = Date.now();
    // 500 due rows of the healthy endpoint, due later than the parked ones (soonest first puts the parked ones ahead).
    db.$client.transaction(() => {
      for (let s = 1; s <= 500; s++) ledger.owe(PARKED_BACKLOG + s, "bulk", [healthy.id], new Date(now - 1000));
    })();
    const pass = () => {
      const started = performance.now();
      for (let i = 0; i < ROUNDS; i++) {
        ledger.releaseWaiting(now, BREAKER_FAILURES);
        ledger.unqueued({ horizon: now + 60_000, limit: 500 });
      }
      return (performance.now() - started) / ROUNDS;
    };
    pass();
    const without = pass();
    db.$client.prepare("UPDATE webhook_subscriptions SET failures_since_success = 9, parked_until = ? WHERE id = ?").run(now + 3_600_000, parked.id);
    // The parked endpoint's rows, as the runner leaves them: waiting for its breaker.
    db.$client.transaction(() => {
      for (let s = 1; s <= PARKED_BACKLOG; s++) {
        ledger.owe(s, "bulk", [parked.id], new Date(now - 60_000));
        ledger.wait({ subscriptionId: parked.id, sequence: s, lane: "bulk", tries: 0, handoff: 0, dueAt: now - 60_000 }, "parked", now + 3_600_000);
      }
    })();
    expect(ledger.unqueued({ horizon: now + 60_000, limit: 500 }).every((row) => row.subscriptionId === healthy.id)).toBe(true);
    pass();
    const withParked = pass();
    expect(withParked / without, `a pass took ${withParked.toFixed(2)} ms beside ${PARKED_BACKLOG} parked rows, ${without.toFixed(2)} ms without`).toBeLessThan(4);
  }, 120_000);
});
