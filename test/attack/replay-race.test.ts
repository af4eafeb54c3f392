import { afterAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * Attack on issue 11 (a replay racing a retry): a partner whose endpoint is failing asks for a
 * replay while the event's LAST scheduled attempt is in flight (a slow 503). The replay owes the
 * event again "from the first step of the schedule"; the in-flight attempt then ends as the last
 * of its round. Its outcome must not wipe out the replay: once the endpoint answers again, the
 * event arrives.
 */
describe("a replay while the last attempt is in flight", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("is not lost when that attempt fails", async () => {
    // One retry: the second attempt is the last.
    const hub = await TestHub.start({ WEBHOOK_RETRY_SCHEDULE: "20ms" }, undefined, { worker: true });
    cleanups.push(() => hub.close());
    const receiver = await TestReceiver.start();
    cleanups.push(() => receiver.close());
    // First attempt: 503 at once; second (the last): 503 after 1.5 s; anything later: 204.
    receiver.respond = ({ attempt }) => (attempt === 1 ? { status: 503 } : attempt === 2 ? { status: 503, delayMs: 1500 } : { status: 204 });
    const partner = hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret;
    const sub = await subscribe(hub, partner, receiver.url, ["CARD_ISSUED"]);
    receiver.secrets = [sub.secret];
    await issue(hub, hub.key("ISSUER"), v2023(1));
    const sequence = (hub.services.db.$client.prepare("SELECT max(sequence) AS s FROM events").get() as { s: number }).s;
    const id = `evt_${sequence}`;

    await eventually(() => (receiver.attempts.get(id) ?? 0) >= 2, 15_000, "the last attempt in flight");
    const replayed = await hub.gql(partner, `mutation { replayEvents(subscriptionId: "${sub.id}", afterSequence: ${sequence - 1}) }`);
    expect(replayed.errors).toBeUndefined();
    expect(replayed.data.replayEvents).toBe(1);

    await eventually(() => receiver.ids().has(id), 15_000, "the replayed event delivered");
    expect(receiver.received.every((r) => r.verified)).toBe(true);
  });
});
