import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { ALL_EVENTS_NO_LINEAGE, issue, subscribe, v2023 } from "../helpers/webhook-fixtures.ts";

/**
 * The circuit breaker of a failing endpoint, end to end (real worker, Redis, receivers): after five
 * failures in a row the endpoint is parked and receives nothing, however much it is owed; when the
 * park ends one probe goes (one, though eleven deliveries are due), and its failure parks it again;
 * once the endpoint answers, the next probe closes the breaker and everything owed flows, having
 * spent no attempt of the retry schedule on the parks. A healthy endpoint beside it gets every event
 * at once throughout. deliveryHealth reports the breaker, the park's end and what is owed.
 */

const PARK_MS = 2000;
// Eight attempts per delivery: enough that a delivery which spent attempts while parked would show.
const SETTINGS = {
  WEBHOOK_BREAKER_MS: String(PARK_MS),
  WEBHOOK_BREAKER_MAX_MS: String(2 * PARK_MS),
  WEBHOOK_RETRY_SCHEDULE: "50ms,100ms,200ms,400ms,800ms,1600ms,3200ms",
  WEBHOOK_TIMEOUT_MS: "2000",
};
const HEALTH = "{ deliveryHealth { subscriptionId owed breaker parkedUntil } }";

describe("endpoint circuit breaker", () => {
  let hub: TestHub;
  const receivers: TestReceiver[] = [];

  beforeAll(async () => {
    hub = await TestHub.start(SETTINGS, undefined, { worker: true });
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await hub?.close();
  });

  it("parks a failing endpoint, probes it one attempt at a time, and lets everything owed flow once it recovers", async () => {
    const db = hub.services.db.$client;
    const viewer = hub.key("VIEWER");
    const issuer = hub.key("ISSUER");
    const start = async (): Promise<TestReceiver> => {
      const r = await TestReceiver.start();
      receivers.push(r);
      return r;
    };
    const failing = await start();
    const healthy = await start();
    failing.respond = () => ({ status: 503 });
    const bad = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, failing.url, ["CARD_ISSUED"]);
    const good = await subscribe(hub, hub.partnerKey(ALL_EVENTS_NO_LINEAGE).secret, healthy.url, ["CARD_ISSUED"]);
    failing.secrets = [bad.secret];
    healthy.secrets = [good.secret];
    const hits = (): number => [...failing.attempts.values()].reduce((sum, n) => sum + n, 0);
    const endpoint = () => db.prepare("SELECT failures_since_success AS failures, parked_until AS parkedUntil FROM webhook_subscriptions WHERE id = ?").get(bad.id) as { failures: number; parkedUntil: number | null };
    const open = () => (db.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE subscription_id = ? AND status = 'PENDING'").get(bad.id) as { n: number }).n;
    const health = async () => {
      const rows = (await hub.gql(viewer, HEALTH)).data.deliveryHealth as { subscriptionId: string; owed: number; breaker: string; parkedUntil: string | null }[];
      return { bad: rows.find((r) => r.subscriptionId === bad.id)!, good: rows.find((r) => r.subscriptionId === good.id)! };
    };

    // One event, failing at one endpoint: its first attempt and four retries park the endpoint.
    await issue(hub, issuer, v2023(1));
    await eventually(() => endpoint().failures >= 5 && open() === 0, 15_000, "five failures in a row");
    expect(endpoint().failures).toBe(5);
    const parked = await health();
    expect(parked.bad).toMatchObject({ breaker: "PARKED", owed: 1 });
    expect(Date.parse(parked.bad.parkedUntil!)).toBe(endpoint().parkedUntil);
    const atPark = hits();
    expect(atPark).toBe(5);

    // Ten more events while it is parked: the healthy endpoint gets them all, the parked one nothing.
    const during = Array.from({ length: 10 }, (_, i) => v2023(10 + i));
    for (const number of during) await issue(hub, issuer, number);
    const committed = () => new Set((db.prepare("SELECT sequence FROM events").all() as { sequence: number }[]).map((e) => `evt_${e.sequence}`));
    await eventually(() => healthy.ids().size === 11, 10_000, "the healthy endpoint having every event");
    const whileParked = await health();
    expect(hits()).toBe(atPark);
    expect(whileParked.bad).toMatchObject({ breaker: "PARKED", owed: 11 });
    expect(whileParked.good).toEqual({ subscriptionId: good.id, owed: 0, breaker: "CLOSED", parkedUntil: null });

    // The park ends: eleven deliveries are due, and one attempt goes, the probe. It fails: parked again.
    await eventually(() => endpoint().failures >= 6 && open() === 0, 15_000, "the first probe");
    expect(endpoint().failures).toBe(6);
    expect(hits()).toBe(atPark + 1);
    expect((await health()).bad).toMatchObject({ breaker: "PARKED", owed: 11 });

    // The endpoint recovers before the second park ends. The second probe goes alone (the next
    // request arrives only after the probe was answered); its success lets the rest flow.
    const arrivals: { answered: boolean; othersAnswered: boolean }[] = [];
    failing.respond = () => {
      const arrival = { answered: false, othersAnswered: arrivals.every((a) => a.answered) };
      arrivals.push(arrival);
      // Set before the receiver answers (its timer is registered after this one), so never late.
      setTimeout(() => (arrival.answered = true), 100);
      return { status: 204, delayMs: 100 };
    };
    const ids = committed();
    await eventually(() => ids.size === 11 && [...ids].every((id) => failing.ids().has(id)), 20_000, "the recovered endpoint having every event");
    expect(arrivals.length).toBeGreaterThanOrEqual(11);
    expect(arrivals[1]!.othersAnswered).toBe(true);
    expect(failing.received.filter((r) => !r.verified)).toEqual([]);

    // Nothing was spent on the parks: five failures and one failed probe, then one success each.
    await eventually(async () => (await health()).bad.owed === 0, 10_000, "nothing owed");
    expect(hits()).toBe(6 + 11);
    const statuses = db.prepare("SELECT status, count(*) AS n FROM webhook_deliveries WHERE subscription_id = ? GROUP BY status ORDER BY status").all(bad.id);
    expect(statuses).toEqual([
      { status: "FAILED", n: 6 },
      { status: "SUCCEEDED", n: 11 },
    ]);
    expect((await health()).bad).toEqual({ subscriptionId: bad.id, owed: 0, breaker: "CLOSED", parkedUntil: null });
    expect(endpoint()).toEqual({ failures: 0, parkedUntil: null });
    expect(healthy.ids()).toEqual(ids);
  }, 60_000);
});
