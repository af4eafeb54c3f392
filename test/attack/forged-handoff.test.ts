import { afterAll, describe, expect, it } from "vitest";
import { QUEUE_NAMES } from "../../jobs/queues.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * Attack on issue 11 (c): jobs forged in Redis that carry a `handoff`, run by a real worker.
 * A forged delivery for a subscription that does not receive the event sends nothing; forged
 * deliveries naming the exact hand-offs of a parked endpoint's owed rows do not get past its
 * breaker (no request reaches it while it is parked).
 */
describe("forged ledger jobs", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("send nothing a subscription may not see, and do not get past a parked endpoint's breaker", async () => {
    // A long park, so that the endpoint stays parked for the whole test.
    const hub = await TestHub.start({ WEBHOOK_BREAKER_MS: "600000", WEBHOOK_BREAKER_MAX_MS: "600000", WEBHOOK_RETRY_SCHEDULE: "10ms,10ms,10ms,10ms,10ms,10ms,10ms,10ms" }, undefined, { worker: true });
    cleanups.push(() => hub.close());
    const [other, failing] = [await TestReceiver.start(), await TestReceiver.start()];
    cleanups.push(() => other.close(), () => failing.close());
    failing.respond = () => ({ status: 503 });
    const otherSub = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, other.url, ["CARD_REVOKED"]);
    other.secrets = [otherSub.secret];
    const failingSub = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, failing.url, ["CARD_ISSUED"]);
    failing.secrets = [failingSub.secret];
    const issuer = hub.key("ISSUER");
    for (let i = 1; i <= 4; i++) await issue(hub, issuer, v2023(i));
    const sql = hub.services.db.$client;
    const parked = () => sql.prepare("SELECT parked_until AS p FROM webhook_subscriptions WHERE id = ?").get(failingSub.id) as { p: number | null };
    await eventually(() => (parked().p ?? 0) > Date.now() + 60_000, 20_000, "the failing endpoint parked");
    // Attempts sent just before the park may still be arriving: count once they have.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const requestsWhenParked = [...failing.attempts.values()].reduce((a, b) => a + b, 0);

    const rows = sql.prepare("SELECT sequence, handoff FROM owed_deliveries WHERE subscription_id = ?").all(failingSub.id) as { sequence: number; handoff: number }[];
    expect(rows.length).toBeGreaterThan(0);
    const queue = hub.runtime.queues.deliver.bulk;
    expect(queue.name).toBe(QUEUE_NAMES.deliver.bulk);
    const forged = [
      // The other subscription receives revocations only: these issues are not its to see.
      ...[1, 2, 3, 4].flatMap((sequence) => [1, 2, 3].map((handoff) => ({ subscriptionId: otherSub.id, sequence, handoff }))),
      // The parked endpoint's rows, by their exact current hand-off (and the next few).
      ...rows.flatMap((row) => [0, 1, 2].map((n) => ({ subscriptionId: failingSub.id, sequence: row.sequence, handoff: row.handoff + n }))),
    ];
    await queue.addBulk(forged.map((data, i) => ({ name: "deliver", data, opts: { jobId: `forged-${i}`, attempts: 1 } })));
    await eventually(async () => (await queue.getJobs(["waiting", "active", "delayed"])).filter((j) => j.id?.startsWith("forged-")).length === 0, 20_000, "the forged jobs run");
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(other.attempts.size).toBe(0);
    expect([...failing.attempts.values()].reduce((a, b) => a + b, 0)).toBe(requestsWhenParked);
    // Nothing owed was lost to the forgeries: the parked endpoint's rows are all still there.
    expect((sql.prepare("SELECT count(*) AS n FROM owed_deliveries WHERE subscription_id = ?").get(failingSub.id) as { n: number }).n).toBe(rows.length);
  }, 60_000);
});
