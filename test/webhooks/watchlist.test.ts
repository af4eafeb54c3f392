import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerJobId } from "../../jobs/queues.ts";
import { TestHub } from "../helpers/temp-hub.ts";
import { eventually, TestReceiver } from "../helpers/receiver.ts";
import { issue, subscribe, v2023, WATCHER } from "../helpers/webhook-fixtures.ts";

const WATCH = "mutation($n: [String!]!) { watchCards(numbers: $n) }";
const UNWATCH = "mutation($n: [String!]!) { unwatchCards(numbers: $n) }";
const V2017 = "CAN110081080319";
const V2023_NEW = "911124198108030024";
/** Types a watcher subscribes to in these tests. */
const TYPES = ["CARD_ISSUED", "CARD_SUPERSEDED", "CARD_REPORTED_LOST", "CARD_REVOKED", "HOLDER_STATUS_CHANGED"];

/** Until every event is fanned out, nothing is owed, and no fan-out or delivery job is left to run. */
async function settled(hub: TestHub): Promise<void> {
  const undispatched = hub.services.db.$client.prepare("SELECT count(*) AS n FROM events WHERE dispatched_at IS NULL");
  const queues = hub.runtime.queues;
  await eventually(async () => {
    if ((undispatched.get() as { n: number }).n > 0 || hub.services.ledger.total() > 0) return false;
    const counts = await Promise.all(
      [...Object.values(queues.fanout), ...Object.values(queues.deliver)].map((q) => q.getJobCounts("waiting", "active", "delayed", "prioritized")),
    );
    return counts.every((c) => Object.values(c).every((n) => n === 0));
  }, 20_000, "queues settled");
}

async function finishedJob(hub: TestHub, lane: "urgent" | "bulk", jobId: string): Promise<unknown> {
  let result: unknown;
  await eventually(async () => {
    const job = await hub.runtime.queues.deliver[lane].getJob(jobId);
    result = job?.returnvalue;
    return !!job?.finishedOn;
  }, 15_000, `job ${jobId} finished`);
  return result;
}

describe("watchlists", () => {
  let hub: TestHub;
  let issuer: string;
  const receivers: TestReceiver[] = [];

  async function receiver(): Promise<TestReceiver> {
    const r = await TestReceiver.start();
    receivers.push(r);
    return r;
  }

  beforeAll(async () => {
    hub = await TestHub.start({ RATE_LIMIT_CHECKS: "PARTNER=40" }, undefined, { worker: true });
    issuer = hub.key("ISSUER");
  });
  afterAll(async () => {
    await hub.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it("need CARDS_CHECK", async () => {
    const key = hub.partnerKey(["WEBHOOKS_MANAGE", "EVENTS_ALL", "LINEAGE_READ"]).secret;
    for (const call of [WATCH, UNWATCH]) {
      expect((await hub.gql(key, call, { n: [v2023(1)] })).errors?.[0].extensions.code).toBe("FORBIDDEN");
    }
  });

  it("answer the same for an existing and an unknown number, and for one holder's numbers or two holders'", async () => {
    const existing = v2023(11);
    const unknown = v2023(12);
    const otherHolder = v2023(13, "1985-01-01");
    await issue(hub, issuer, V2017, { validFrom: "2016-05-10", validUntil: "2026-05-09" });
    await issue(hub, issuer, V2023_NEW, { previousNumber: V2017, validFrom: "2024-03-01", validUntil: "2034-02-28" });
    await issue(hub, issuer, existing);
    await issue(hub, issuer, otherHolder);
    const answer = async (call: string, numbers: string[]) => {
      const { data, errors } = await hub.gql(hub.partnerKey(WATCHER).secret, call, { n: numbers });
      return { data: data && Object.values(data), errors };
    };
    for (const call of [WATCH, UNWATCH]) {
      expect(await answer(call, [existing])).toEqual(await answer(call, [unknown]));
      expect(await answer(call, [V2017, V2023_NEW])).toEqual(await answer(call, [V2017, otherHolder]));
      expect(await answer(call, [V2017, V2023_NEW])).toEqual(await answer(call, [unknown, v2023(14)]));
    }
    // The count is how the caller's own list changed.
    const key = hub.partnerKey(WATCHER).secret;
    expect((await hub.gql(key, WATCH, { n: [unknown, ` ${unknown.toLowerCase()} `, existing] })).data.watchCards).toBe(2);
    expect((await hub.gql(key, WATCH, { n: [unknown] })).data.watchCards).toBe(0);
    expect((await hub.gql(key, UNWATCH, { n: [unknown, v2023(15)] })).data.unwatchCards).toBe(1);
  });

  it("audit every number and count it against the check rate limit", async () => {
    const { secret, partnerId } = hub.partnerKey(WATCHER);
    const numbers = [v2023(21), v2023(22), v2023(23)];
    expect((await hub.gql(secret, WATCH, { n: numbers })).data.watchCards).toBe(3);
    expect((await hub.gql(secret, UNWATCH, { n: [numbers[0]] })).data.unwatchCards).toBe(1);
    hub.services.audit.flush();
    const rows = hub.services.db.$client.prepare("SELECT kind, version, result, number_digest FROM audit_log WHERE partner_id = ? ORDER BY kind").all(partnerId);
    expect(rows.map((r: any) => `${r.kind} ${r.version}`)).toEqual(["UNWATCH V2023", "WATCH V2023", "WATCH V2023", "WATCH V2023"]);
    expect(JSON.stringify(rows)).not.toContain(numbers[1]);
    // 4 numbers so far; the limit is 40 checks a minute per key, and watched numbers are checks.
    // Holders with different birth dates: numbers of one stem are counted as guesses (enumeration guard).
    const batch = Array.from({ length: 30 }, (_, i) => v2023(100 + i, `1980-0${1 + (i % 9)}-1${i % 10}`));
    expect((await hub.gql(secret, WATCH, { n: batch })).data.watchCards).toBe(30);
    expect((await hub.gql(secret, "query($n: [String!]!) { checkCards(numbers: $n) { result } }", { n: batch.slice(0, 6) })).errors).toBeUndefined();
    expect((await hub.gql(secret, WATCH, { n: [v2023(200)] })).errors?.[0].extensions.code).toBe("RATE_LIMITED");
    expect((await hub.gql(secret, UNWATCH, { n: [v2023(200)] })).errors?.[0].extensions.code).toBe("RATE_LIMITED");
  });

  it("follow a V2017 → V2023 switch only for a key with LINEAGE_READ: feed, webhooks and replay", async () => {
    const oldNumber = "CAN310079021117";
    const newNumber = v2023(31, "1979-02-11");
    await issue(hub, issuer, oldNumber, { validFrom: "2016-05-10", validUntil: "2026-05-09" });
    const plain = hub.partnerKey(WATCHER);
    const lineage = hub.partnerKey([...WATCHER, "LINEAGE_READ"]);
    const [rPlain, rLineage] = await Promise.all([receiver(), receiver()]);
    const subPlain = await subscribe(hub, plain.secret, rPlain.url, TYPES);
    rPlain.secrets = [subPlain.secret];
    rLineage.secrets = [(await subscribe(hub, lineage.secret, rLineage.url, TYPES)).secret];
    await settled(hub); // the old card's own issue event is delivered before anyone watches it
    for (const key of [plain, lineage]) expect((await hub.gql(key.secret, WATCH, { n: [oldNumber] })).data.watchCards).toBe(1);
    await issue(hub, issuer, newNumber, { previousNumber: oldNumber, validFrom: "2024-03-01", validUntil: "2034-02-28" });
    await hub.gql(issuer, `mutation { reportCardLost(number: "${newNumber}") { state } }`);
    await hub.gql(issuer, `mutation { setHolderStatus(number: "${newNumber}", status: NATURALIZED) { state } }`);
    const seen = (r: TestReceiver) => r.received.map((x) => `${x.event.type} ${x.event.subject}`).sort();
    const afterSwitch = ["card.issued", "card.reported_lost", "holder.status_changed"].map((t) => `${t} ${newNumber}`);
    await rLineage.waitFor(() => seen(rLineage).length === 4);
    await settled(hub);
    expect(seen(rLineage)).toEqual([...afterSwitch, `card.superseded ${oldNumber}`].sort());
    expect(seen(rPlain)).toEqual([`card.superseded ${oldNumber}`]);
    expect(JSON.stringify(rPlain.received)).not.toContain(newNumber);

    const feed = async (secret: string) =>
      (await hub.gql(secret, "{ changes(first: 1000) { edges { node { type cardNumber data } } } }")).data.changes.edges.map((e: any) => e.node);
    expect((await feed(lineage.secret)).map((n: any) => n.cardNumber)).toContain(newNumber);
    const plainFeed = await feed(plain.secret);
    expect(plainFeed.map((n: any) => `${n.type} ${n.cardNumber}`)).toEqual([`CARD_ISSUED ${oldNumber}`, `CARD_SUPERSEDED ${oldNumber}`]);
    expect(JSON.stringify(plainFeed)).not.toContain(newNumber);

    // A replay queues what the subscription receives: the same two events, nothing of the new number.
    expect((await hub.gql(plain.secret, `mutation { replayEvents(subscriptionId: "${subPlain.id}", afterSequence: 0) }`)).data.replayEvents).toBe(2);
    await settled(hub);
    expect(JSON.stringify(rPlain.received)).not.toContain(newNumber);
  });

  it("re-check entitlement at every delivery attempt: a job for an event the subscription may not see is not sent", async () => {
    const watcher = hub.partnerKey(WATCHER);
    const r = await receiver();
    const sub = await subscribe(hub, watcher.secret, r.url, ["CARD_REVOKED"]);
    r.secrets = [sub.secret];
    const watched = v2023(41);
    const unwatched = v2023(42);
    await issue(hub, issuer, watched);
    await issue(hub, issuer, unwatched);
    expect((await hub.gql(watcher.secret, WATCH, { n: [watched] })).data.watchCards).toBe(1);

    // A job added by hand (as Bull Board or a stale queue could) for an event it never received.
    await hub.gql(issuer, `mutation { revokeCard(number: "${unwatched}", reason: "test") { state } }`);
    await settled(hub);
    const unwatchedSequence = (hub.services.db.$client.prepare("SELECT max(sequence) AS s FROM events WHERE card_number = ?").get(unwatched) as { s: number }).s;
    await hub.runtime.queues.addDeliveries("urgent", [{ jobId: "forged-1", data: { subscriptionId: sub.id, sequence: unwatchedSequence } }]);
    expect(await finishedJob(hub, "urgent", "forged-1")).toBe("skipped: subscription does not receive this event");

    // A retry after the partner stopped watching: the first attempt fails, the retry is not sent.
    r.respond = () => {
      hub.services.watchlist.unwatch({ keyId: "test", partnerId: watcher.partnerId }, [watched]);
      return { status: 503 };
    };
    await hub.gql(issuer, `mutation { revokeCard(number: "${watched}", reason: "test") { state } }`);
    const sequence = (hub.services.db.$client.prepare("SELECT max(sequence) AS s FROM events WHERE card_number = ?").get(watched) as { s: number }).s;
    const retryJob = ledgerJobId(hub.services.identity.id, { subscriptionId: sub.id, sequence, handoff: 1 });
    expect(await finishedJob(hub, "urgent", retryJob)).toBe("skipped: subscription does not receive this event");
    expect([...r.attempts.values()]).toEqual([1]);
    expect(r.received).toEqual([]);
    const log = await hub.gql(watcher.secret, `{ webhookDeliveries(subscriptionId: "${sub.id}") { eventId status } }`);
    expect(log.data.webhookDeliveries).toEqual([{ eventId: `evt_${sequence}`, status: "FAILED" }]);
  });
});
