import { afterAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * Attack on issue 11 (d): can one partner make the hub's loops hot? A slow but healthy endpoint
 * (answers 204 after 1 s, never fails, so its breaker never opens) with a backlog, and an
 * in-flight bound of 1. Each row over the bound is "deferred": rescheduled about one answer
 * later under a new hand-off, i.e. a new BullMQ job, a claim transaction, a reschedule, and the
 * relay again. While one attempt is in flight, every one of the N waiting rows comes round again,
 * so each answer of that one endpoint costs the hub O(N) jobs: draining a backlog of N costs
 * O(N²), all of it on the delivery queues other partners share.
 *
 * What must hold: a row waiting for its endpoint's slot is not handed round and round. Counted
 * in the ledger's own hand-off numbers (each deferral is one): after a few answers, the waiting
 * rows have been handed over a bounded number of times each, not once per answer.
 */
const BACKLOG = 40;
const ANSWERS = 5;

describe("a slow endpoint with a backlog", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("waiting rows are not re-handed once per answer of their endpoint", async () => {
    const hub = await TestHub.start({ WEBHOOK_MAX_IN_FLIGHT: "1", WEBHOOK_TIMEOUT_MS: "5000" }, undefined, { worker: true });
    cleanups.push(() => hub.close());
    const slow = await TestReceiver.start();
    cleanups.push(() => slow.close());
    slow.respond = () => ({ status: 204, delayMs: 1000 });
    const { id, secret } = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, slow.url, ["CARD_ISSUED"]);
    slow.secrets = [secret];
    const issuer = hub.key("ISSUER");
    for (let i = 1; i <= BACKLOG; i++) await issue(hub, issuer, v2023(i));

    await eventually(() => slow.ids().size >= ANSWERS, 60_000, `${ANSWERS} answers from the slow endpoint`);
    const rows = hub.services.db.$client.prepare("SELECT handoff FROM owed_deliveries WHERE subscription_id = ?").all(id) as { handoff: number }[];
    const handoffs = rows.reduce((sum, row) => sum + row.handoff, 0);
    // A waiting row may be handed a few times (its fan-out, a deferral or two); not once per answer.
    expect(handoffs, `${rows.length} waiting rows handed over ${handoffs} times after ${slow.ids().size} answers`).toBeLessThanOrEqual(2 * rows.length);
  });
});
