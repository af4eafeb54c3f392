import { afterAll, describe, expect, it } from "vitest";
import { committedEvents, deliveryProblems, hasAll, issueCards, missing } from "../helpers/delivery-audit.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { uniquePrefix } from "../helpers/redis.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, subscribe } from "../helpers/webhook-fixtures.ts";

/**
 * Issue 11, "a new database on a Redis that holds an earlier one's jobs": hub A commits and
 * delivers 100 events on a Redis and queue prefix, and stops; its completed jobs stay in Redis
 * (kept up to an hour). Hub B starts with a fresh DATA_DIR on the same Redis and prefix and
 * commits 100 events. The earlier design named jobs `evt-<sequence>` and skipped 54 of them as
 * duplicates; and since a partner dedupes on `webhook-id`, ids reused from A would be dropped by
 * a correct receiver too. Here: all of B's events arrive, under ids A's receiver never saw
 * (B's sequences continue after A's high-water mark).
 */

const EVENTS = 100;

describe("delivery from a new database on a Redis that holds an earlier one's jobs", () => {
  const hubs: TestHub[] = [];
  let receiver: TestReceiver | undefined;

  afterAll(async () => {
    await receiver?.close();
    for (const hub of hubs) await hub.close().catch(() => undefined);
  });

  it("delivers every event of the new database under ids the partner has not seen", async () => {
    const prefix = uniquePrefix();
    receiver = await TestReceiver.start();
    const r = receiver;

    // Hub A: its events delivered, then stopped (its jobs stay in Redis).
    const a = await TestHub.start({ QUEUE_PREFIX: prefix }, undefined, { worker: true });
    hubs.push(a);
    const partnerA = a.partnerKey(ALL_EVENTS_NO_LINEAGE);
    r.secrets.push((await subscribe(a, partnerA.secret, r.url, ["CARD_ISSUED"])).secret);
    await issueCards(a, a.key("ISSUER"), 0, EVENTS);
    const eventsA = committedEvents(a.services.db.$client);
    expect(eventsA.size).toBe(EVENTS);
    await eventually(() => hasAll(r, eventsA.keys()), 30_000, "hub A's events at the receiver");
    const seenFromA = new Set(r.ids());
    await a.close();
    hubs.pop();

    // Hub B: a fresh database on the same Redis and prefix, where A's completed jobs still are.
    const b = await TestHub.start({ QUEUE_PREFIX: prefix }, undefined, { worker: true });
    hubs.push(b);
    expect(b.config.dataDir).not.toBe(a.config.dataDir);
    expect(await b.runtime.queues.fanout.bulk.getCompletedCount()).toBeGreaterThanOrEqual(EVENTS);
    const partnerB = b.partnerKey(ALL_EVENTS_NO_LINEAGE);
    r.secrets.push((await subscribe(b, partnerB.secret, r.url, ["CARD_ISSUED"])).secret);
    await issueCards(b, b.key("ISSUER"), EVENTS, EVENTS);
    const eventsB = committedEvents(b.services.db.$client);
    expect(eventsB.size).toBe(EVENTS);
    await eventually(() => hasAll(r, eventsB.keys()), 30_000, "hub B's events at the receiver").catch((error: Error) => {
      throw new Error(`${error.message}: ${missing(r, eventsB.keys())} of ${EVENTS} missing`);
    });

    // No id of B's names one of A's events; B's sequences continue after A's.
    expect([...eventsB.keys()].filter((id) => seenFromA.has(id))).toEqual([]);
    const highestA = Math.max(...[...eventsA.values()].map((e) => e.sequence));
    expect(Math.min(...[...eventsB.values()].map((e) => e.sequence))).toBeGreaterThan(highestA);
    expect(deliveryProblems(r, eventsB, eventsA)).toEqual([]);
    expect(r.ids().size).toBe(2 * EVENTS);
  }, 90_000);
});
